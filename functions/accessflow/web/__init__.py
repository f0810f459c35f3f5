"""The browser faces of the HTTP API (the invitee's accept page and the admin console): the page
shell with its security headers (:mod:`accessflow.web.pages`) and the static assets packaged beside
it (``static/``), served by the API function through routes the template declares."""
