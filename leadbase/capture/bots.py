"""Tell a person's click on a tracked link from a bot's or a link-preview fetcher's request.

Pure, no Django. Social networks and chat apps fetch every posted link to draw its preview card
(facebookexternalhit, Twitterbot, Slackbot, WhatsApp, …), search engines crawl it, and scripts
probe it; counting those would inflate clicks by the number of places a link was pasted. Only
the request's method, its User-Agent and the browser's prefetch hints are looked at: nothing
about the person is kept or needed.

In-app browsers are people and must not match: Instagram's, Facebook's and Pinterest's own
browsers send "Instagram 300.0…", "[FBAN/FBIOS;…]" and "[Pinterest/iOS]" (their crawlers are
facebookexternalhit, Facebot, Pinterestbot and "Pinterest/0.2 (+…bot.html)", so Pinterest is
matched by its crawlers' names, not by its own), and a phone brand such as "CUBOT" contains
"bot" without being one, hence the word-boundary patterns below rather than a bare "bot"
substring.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

#: User-Agents of crawlers, preview fetchers and HTTP libraries (case-insensitive search).
BOT_USER_AGENT = re.compile(
    r"""
      facebookexternalhit | facebot | twitterbot | linkedinbot | slackbot | slack-imgproxy
    | discordbot | whatsapp | telegrambot | googlebot | google-inspectiontool | adsbot-google
    | bingbot | bingpreview | applebot | pinterestbot | pinterest/0\. | embedly | iframely
    | skypeuripreview | redditbot | mastodon | cardyb | vkshare | yandex | baiduspider
    | duckduckbot | petalbot
    | \b(?:curl|wget|python-requests|python-urllib|python-httpx|aiohttp|go-http-client|okhttp
         |axios|node-fetch|undici|libwww-perl|java|scrapy|httpclient)\b
    | headlesschrome | phantomjs | lighthouse
    | \bbot\b | bot/ | crawler | spider | \+https?://
    """,
    re.IGNORECASE | re.VERBOSE,
)


def is_bot(method: str, user_agent: str, headers: Mapping[str, str] | None = None) -> bool:
    """True when a request to a tracked link must not count as a click.

    HEAD requests (link checkers), an empty User-Agent, a known bot or library User-Agent, and
    a browser's speculative prefetch (``Sec-Purpose``/``Purpose: prefetch``) are not clicks.
    """
    if method.upper() != "GET":
        return True
    agent = user_agent.strip()
    if not agent or BOT_USER_AGENT.search(agent):
        return True
    if headers:
        purpose = headers.get("Sec-Purpose") or headers.get("Purpose") or headers.get("X-Moz") or ""
        if "prefetch" in purpose.lower():
            return True
    return False
