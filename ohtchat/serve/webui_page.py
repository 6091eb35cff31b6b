"""The web UI's two HTML pages: the token form and the terminal page (no outside resource).

The terminal page replaces textual-serve's template, which loads a font from a CDN: here
the font, ``xterm.css`` and ``textual.js`` all come from this server's ``/static``.
"""

from __future__ import annotations

import html

_STYLE = """
body { background: #0c181f; color: #eee; font-family: monospace; margin: 0; }
.box { max-width: 32em; margin: 10vh auto; padding: 2em; background: #12232d; }
input { font: inherit; width: 100%; box-sizing: border-box; padding: .5em; margin: 1em 0; }
button { font: inherit; padding: .5em 2em; }
.error { color: #ff8080; }
"""


def login_page(error: str = "") -> str:
    """The form asking for the token (shown, with status 403, to anyone without it)."""
    err = f'<p class="error" id="error">{html.escape(error)}</p>' if error else ""
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>ohtchat</title><style>{_STYLE}</style></head>
<body><div class="box" id="login"><h1>ohtchat</h1>
<p>This web interface needs the token shown by <code>/webui start</code>.</p>{err}
<form method="post" action="/login">
<label for="token">Token</label>
<input id="token" name="token" type="password" autocomplete="off" autofocus>
<button type="submit" id="enter">Open</button>
</form></div></body></html>
"""


def app_page(static_url: str, websocket_url: str, font_size: int = 16) -> str:
    """The page running textual.js against our websocket."""
    s = html.escape(static_url, quote=True)
    ws = html.escape(websocket_url, quote=True)
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>ohtchat</title>
<link rel="stylesheet" href="{s}css/xterm.css">
<style>
@font-face {{ font-family: "Roboto Mono"; font-style: normal;
  src: url("{s}fonts/RobotoMono-VariableFont_wght.ttf") format("truetype"); }}
@font-face {{ font-family: "Roboto Mono"; font-style: italic;
  src: url("{s}fonts/RobotoMono-Italic-VariableFont_wght.ttf") format("truetype"); }}
body {{ background: #0c181f; margin: 0; }}
.textual-terminal {{ width: 100vw; height: 100vh; }}
.closed {{ display: none; color: #eee; font-family: "Roboto Mono", monospace;
  position: absolute; top: 40vh; width: 100%; text-align: center; }}
body.-closed .closed {{ display: block; }}
</style>
<script src="{s}js/textual.js"></script>
</head>
<body>
<div class="closed">Session ended. <a href="/" style="color:#ac5af4">Restart</a></div>
<div id="terminal" class="textual-terminal" data-session-websocket-url="{ws}"
 data-font-size="{int(font_size)}"></div>
</body></html>
"""
