"""The measured tech check: a page served by the bot that checks camera, microphone, speaker,
browser and connection on the client's own device.

* ``usage``           the per-link data budget and the "used" mark;
* ``results``         validating and judging what the page measured (Microsoft's figures);
* ``result_delivery`` storing the result and announcing it in the chat;
* ``routes``          the page, its assets and the measurement API;
* ``static/``         the page itself: plain HTML, CSS and JavaScript, no build step.

The links the chat issues and the page reads are the domain's (``bot/domain/techcheck_links.py``);
the result in words is the cards' (``cards/measured_summary.py``, ``cards/tech_result_cards.py``).
The composition root (``bot/app.py``) builds the page's parts once.
"""
