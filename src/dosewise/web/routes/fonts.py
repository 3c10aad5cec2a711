"""The Chinese font for browsers that have none: the Noto Sans SC that comes with dosewise.

``style.css`` declares it with a CJK ``unicode-range``, so a browser downloads it only for a page
with Chinese text and only when no local font is used instead; an English page never loads it.
Without a single-file CJK font on the server the route answers 404 and the browser keeps its own
fonts.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

from dosewise.report import fonts

router = APIRouter(include_in_schema=False)

#: Browsers load single-face OpenType/TrueType files, not collections (.ttc).
_MEDIA = {".otf": "font/otf", ".ttf": "font/ttf"}


@router.get("/fonts/cjk")
def cjk_web_font() -> FileResponse:
    font = fonts.cjk_font()
    media = _MEDIA.get(font.path.suffix.lower()) if font is not None else None
    if font is None or media is None:
        raise HTTPException(status_code=404, detail="no CJK font file on this server")
    return FileResponse(
        font.path, media_type=media, headers={"Cache-Control": "public, max-age=604800"}
    )
