"""The visitor's language (SPEC §13): French by default, English too, for citizens.

Chosen, in this order, by the `lang` query parameter (a shared link, the DSFR language
selector's links), the `lang` cookie that parameter leaves on a page (pages only: the API
reads no cookie), the `Accept-Language` header, then French. The staff workspace, the
command line and the job runner speak French unless a caller forces a language
(`flask_babel.force_locale`, as the runner does with a booking's language).
"""

from __future__ import annotations

from gettext import NullTranslations
from types import SimpleNamespace
from typing import Any, cast, overload
from urllib.parse import urlencode

from babel import Locale
from flask import (
    Flask,
    Response,
    current_app,
    g,
    has_app_context,
    has_request_context,
    request,
    url_for,
)
from flask_babel import Babel, get_locale, get_translations, gettext
from markupsafe import Markup
from werkzeug.wrappers import Response as BaseResponse

from booking.domain.words import DEFAULT_LANGUAGE, LANGUAGES, Text, normal_language
from booking.paths import ROOT

COOKIE = "lang"
COOKIE_SECONDS = 365 * 24 * 3600
STAFF_PREFIXES = ("/staff",)
# What the DSFR selector shows: each language named in itself.
LANGUAGE_NAMES = {"fr": "Français", "en": "English"}

babel = Babel()


def _staff_request() -> bool:
    return request.blueprint == "staff" or request.path.startswith(STAFF_PREFIXES)


def chosen_language() -> str:
    """The language of this request (see the module's text)."""
    if not has_request_context() or _staff_request():
        return DEFAULT_LANGUAGE
    asked = normal_language(request.args.get(COOKIE))
    if asked:
        return asked
    if not request.path.startswith("/api/"):
        kept = normal_language(request.cookies.get(COOKIE))
        if kept:
            return kept
    return str(request.accept_languages.best_match(LANGUAGES, default=DEFAULT_LANGUAGE))


def _locale() -> Locale | None:
    """The locale in force (the request's, or the one `force_locale` set), read where
    Flask-Babel keeps it, and chosen the first time."""
    kept = g.__dict__.get("_flask_babel") if has_app_context() else None
    locale: Locale | None = getattr(kept, "babel_locale", None)
    return locale or get_locale()


def catalogue() -> NullTranslations:
    """The catalogue of the locale in force, looked up once per locale and context:
    Flask-Babel looks it up again at every text (a page says dozens)."""
    kept = g.__dict__ if has_app_context() else {}
    cached = kept.get("_catalogue")
    if cached is not None and cached[0] is getattr(kept.get("_flask_babel"), "babel_locale", 0):
        return cast(NullTranslations, cached[1])
    locale = _locale()
    if locale is None:
        return NullTranslations()
    g._catalogue = (locale, get_translations())
    return cast(NullTranslations, g._catalogue[1])


def current_language() -> str:
    """`fr` or `en`: the language pages, emails and messages are being written in."""
    locale = _locale()
    return normal_language(locale.language if locale else None) or DEFAULT_LANGUAGE


def speak(language: str) -> None:
    """Write this page in `language` (a booking's, on its manage page), unless the visitor
    asked for one with `?lang=` (the language selector)."""
    if normal_language(request.args.get(COOKIE)) or normal_language(language) is None:
        return
    context = g.__dict__.setdefault("_flask_babel", SimpleNamespace())
    context.babel_locale = Locale.parse(language)


@overload
def say(text: str) -> str: ...
@overload
def say(text: Any) -> Any: ...
def say(text: Any) -> Any:
    """A text of the service in the current language: a marked constant (`N_`) or a
    `Text` with its values (values that are `Text` are said too). Anything else as it is."""
    if isinstance(text, Text):
        said = catalogue().gettext(text.template)
        if not text.values:
            return said
        return said % {name: say(value) for name, value in text.values.items()}
    if isinstance(text, str) and text:
        return catalogue().gettext(text)
    return text


def in_french() -> Markup:
    """After a link to a French State service, in another language: say it is in French."""
    if current_language() == DEFAULT_LANGUAGE:
        return Markup("")
    return Markup(' <span class="fr-text--sm">{}</span>').format(gettext("(en français)"))


def switch_links() -> list[dict[str, Any]]:
    """The DSFR selector's entries: this page in each language, the current one marked."""
    current = current_language()
    # A page that answers a form (an error, a step of a cancellation) has no address to
    # show again: its selector leads to the home page.
    path = request.path if request.method == "GET" else url_for("public.index")
    kept = request.args.to_dict(flat=False) if request.method == "GET" else {}
    kept.pop(COOKIE, None)
    links = []
    for code in LANGUAGES:
        query = {COOKIE: [code], **kept}  # `lang` first: the page's own values follow
        links.append(
            {
                "code": code,
                "name": LANGUAGE_NAMES[code],
                "href": f"{path}?{urlencode(query, doseq=True)}",
                "current": code == current,
            }
        )
    return links


def _remember(response: Response) -> Response:
    """Keep the language asked by `?lang=` in a cookie; say what the page depended on."""
    chosen = getattr(getattr(g, "_flask_babel", None), "babel_locale", None)
    if chosen is None or _staff_request():
        return response  # the page never asked for a language
    if request.path.startswith("/api/"):
        response.vary.add("Accept-Language")
        return response
    response.vary.update(("Cookie", "Accept-Language"))
    asked = normal_language(request.args.get(COOKIE))
    if asked and request.cookies.get(COOKIE) != asked:
        response.set_cookie(
            COOKIE,
            asked,
            max_age=COOKIE_SECONDS,
            secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
            httponly=True,
            samesite="Lax",
        )
    return response


def forget_language(response: BaseResponse) -> None:
    """Remove the language cookie, if the visitor has one (the quick exit)."""
    if COOKIE in request.cookies:
        response.delete_cookie(COOKIE, httponly=True, samesite="Lax")


def init_app(app: Flask) -> None:
    """Flask-Babel with the catalogues built by `make` (booking/translations)."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(ROOT / "booking" / "translations"))
    babel.init_app(app, locale_selector=chosen_language)
    # Templates read the catalogue kept for the request (see `catalogue`).
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda text: catalogue().gettext(text),
        ngettext=lambda one, many, count: catalogue().ngettext(one, many, count),
        pgettext=lambda context, text: catalogue().pgettext(context, text),
        npgettext=lambda context, one, many, count: catalogue().npgettext(
            context, one, many, count
        ),
        newstyle=True,
    )
    app.jinja_env.policies["ext.i18n.trimmed"] = True  # a {% trans %} block's lines joined
    app.after_request(_remember)
    app.jinja_env.globals.update(
        current_language=current_language,
        language_links=switch_links,
        say=say,
        in_french=in_french,
    )
    app.jinja_env.filters["say"] = say
