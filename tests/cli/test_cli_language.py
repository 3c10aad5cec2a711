"""The CLI's language (issue 16 item 1): ``dosewise --lang zh <command>`` or ``DOSEWISE_LANG``
renders every error line in Chinese through the renderer the API uses; English stays the
default and its lines do not change; a command's own ``--lang`` still wins; JSON keys stay."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dosewise.cli import language
from dosewise.cli.app import main
from dosewise.errors import InvalidInput, InvalidParameter
from dosewise.trial.refusals import refusal
from dosewise.trial.state.reasons import error_line


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(autouse=True)
def no_env_lang(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(language.ENV, raising=False)


def test_the_root_option_is_split_off_before_the_command() -> None:
    assert language.split_root(["--lang", "zh", "decide", "--lang", "en"]) == (
        "zh",
        ["decide", "--lang", "en"],
    )
    assert language.split_root(["--lang=zh", "arm", "list"]) == ("zh", ["arm", "list"])
    assert language.split_root(["decide", "--lang", "zh"]) == (None, ["decide", "--lang", "zh"])


def test_a_coded_refusal_reads_in_chinese_and_english_stays_as_it_was() -> None:
    exc = refusal(
        InvalidInput, "role", "nurse", "one_of", choices=["admin", "dsmb"], choice_of="role"
    )
    assert error_line(exc, "en") == exc.message == "role='nurse': must be one of admin, dsmb"
    assert error_line(exc, "zh") == "角色「nurse」：须为以下之一：管理员、DSMB 成员"
    # An error without a code keeps its English rule (no text is invented).
    plain = InvalidParameter("outcomes", "1NNX", "character 4 ('X') must be one of N, E, T, B")
    assert (
        error_line(plain, "zh") == "结局序列「1NNX」：character 4 ('X') must be one of N, E, T, B"
    )


def test_json_error_objects_add_the_reason_for_a_coded_error_only() -> None:
    coded = refusal(InvalidInput, "user", "ghost", "no_such_user")
    assert language.error_fields(coded, "zh") == {
        "reason": "没有该用户",
        "reason_code": "no_such_user",
        "reason_params": {},
    }
    assert language.error_fields(InvalidInput("x", 1, "bad"), "zh") == {}


def test_zh_error_line_and_exit_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path}/empty.db"
    args = ["worklist", "--user", "nobody", "--database-url", url]
    code, _, err = run(["--lang", "zh", *args], capsys)
    assert code == 2
    assert err.startswith("错误：数据库「") and "为空（无表结构）" in err
    assert "dosewise db upgrade" in err  # the command to run is not translated
    code, _, err = run(args, capsys)
    assert code == 2 and err.startswith("error: database=") and "is empty (no schema)" in err


def test_the_environment_chooses_and_the_root_option_wins(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path}/empty.db"
    args = ["worklist", "--user", "nobody", "--database-url", url]
    monkeypatch.setenv(language.ENV, "zh")
    assert run(args, capsys)[2].startswith("错误：")
    assert run(["--lang", "en", *args], capsys)[2].startswith("error: ")
    monkeypatch.setenv(language.ENV, "fr")
    code, _, err = run(args, capsys)
    assert code == 2 and err == "error: DOSEWISE_LANG='fr': must be one of en, zh\n"
    monkeypatch.delenv(language.ENV)
    code, _, err = run(["--lang", "fr", *args], capsys)
    assert code == 2 and err == "error: lang='fr': must be one of en, zh\n"


def test_the_run_language_is_the_default_of_a_commands_own_lang(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    decide = ["decide", "--outcomes", "1NNN", "--json"]
    _, en, _ = run(decide, capsys)
    _, zh, _ = run(["--lang", "zh", *decide], capsys)
    _, own, _ = run(["--lang", "zh", *decide, "--lang", "en"], capsys)
    monkeypatch.setenv(language.ENV, "zh")
    _, env, _ = run(decide, capsys)
    en_doc, zh_doc = json.loads(en), json.loads(zh)
    assert en_doc.keys() == zh_doc.keys()  # JSON keys stay
    assert en_doc["reason_code"] == zh_doc["reason_code"]
    assert "剂量" in zh_doc["reason"] and "dose" in en_doc["reason"]
    assert json.loads(own) == en_doc and json.loads(env) == zh_doc
    # The language does not leak into the next run.
    monkeypatch.delenv(language.ENV)
    assert json.loads(run(decide, capsys)[1]) == en_doc


def test_json_lines_keep_their_keys_in_chinese(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = tmp_path / "o.txt"
    lines.write_text("1NNN\n1NNX\n")
    code, out, _ = run(["--lang", "zh", "decide", "--outcomes-file", str(lines)], capsys)
    first, second = (json.loads(line) for line in out.splitlines())
    assert code == 0 and "剂量" in first["reason"]
    assert set(second["error"]) == {"line", "field", "message"}  # an error without a code


PROBE = "import sys\nfrom dosewise.cli.app import main\nmain(sys.argv[1:])\n"


def test_help_shows_the_root_option_and_every_command(tmp_path: Path) -> None:
    from dosewise.cli.app import COMMANDS

    proc = subprocess.run(
        [sys.executable, "-c", "from dosewise.cli.app import main; main(['--help'])"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "--lang" in proc.stdout and language.ENV in proc.stdout
    listed = {line.split()[1] for line in proc.stdout.splitlines() if line.startswith("│ ")}
    assert set(COMMANDS) <= listed
    # A command's own help still lists its --lang.
    sub = subprocess.run(
        [sys.executable, "-c", PROBE, "--lang", "zh", "decide", "--help"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )
    assert sub.returncode == 0 and "--lang" in sub.stdout and "--outcomes" in sub.stdout
