"""The UI's sign-in cookie: Flask's signed-cookie session, free for requests that carry none.

API clients send bearer tokens and no cookie, yet Flask builds a signing serializer to open and
a cookie's attributes to save an empty session on every request. This interface answers those
requests with an empty session directly and behaves exactly as Flask's otherwise."""
from __future__ import annotations

from flask.sessions import SecureCookieSessionInterface


class CookieSessionInterface(SecureCookieSessionInterface):
    def open_session(self, app, request):
        if app.secret_key and self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app, session, response):
        if not session and not session.modified:
            # What Flask does for an empty, unchanged session: no cookie, and Vary if it was read.
            if session.accessed:
                response.vary.add("Cookie")
            return
        super().save_session(app, session, response)
