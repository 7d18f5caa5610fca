"""The measured tech check: a page served by the bot that checks camera, microphone, speaker,
browser and connection on the client's own device (DESIGN.md §5).

* ``links``    signed, encrypted, short-lived links, issued in the client's chat;
* ``usage``    the per-link data budget and the "used" mark;
* ``results``  validating and judging what the page measured (Microsoft's figures);
* ``summary``  the result in words, for the chat and the counsellor's card;
* ``delivery`` storing the result and announcing it;
* ``routes``   the page, its assets and the measurement API;
* ``static/``  the page itself: plain HTML, CSS and JavaScript, no build step.

Import the modules themselves (``bot.techcheck_page.routes`` …): the dialogs import ``links``,
and ``routes`` imports the dialogs.
"""
