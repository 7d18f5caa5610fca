#!/usr/bin/env node
/*
 * Validate Adaptive Cards with Microsoft's own JavaScript renderer (adaptivecards 3.0.6),
 * without a browser.
 *
 * stdin:  a JSON array of card objects.
 * stdout: a JSON array (same order) of arrays of event strings; an empty array means the
 *         card is clean. Each string looks like
 *             "Parse/UnknownElementType: Unknown element type \"Input.Bogus\". ..."
 *         i.e. "<phase>/<event>: <message>".
 *
 * What is checked for every card:
 *   1. Parse events (SerializationContext) with the target version set to 1.5, the highest
 *      schema version Microsoft Teams renders. With that target the library itself reports
 *      element/action types registered for a newer schema as unknown, and properties
 *      introduced in a newer schema as "UnsupportedProperty".
 *   2. Validation events from card.validateProperties() with card.maxVersion = 1.5, which
 *      reports a declared "version" above 1.5 (UnsupportedCardVersion), a wrong top-level
 *      "type", Action.OpenUrl without url, inputs without id, duplicate ids, etc.
 *   3. A top-level "type" or "version" that is absent altogether: the library silently
 *      defaults them ("AdaptiveCard" and 1.0), so it cannot see those cases; we check here.
 *   4. Re-serialisation with card.toJSON() must not throw; exceptions thrown anywhere are
 *      reported as events rather than crashing the batch.
 *
 * Parsing and validation need no DOM (only rendering does), so no DOM shim is installed.
 */
"use strict";

const path = require("path");

const REPO_ROOT = path.resolve(__dirname, "..", "..");

// The package's "main" (lib/) build fails to import under Node 20, so load the webpack
// bundle in dist/ explicitly, resolved from the repo's node_modules regardless of cwd.
const AC = require(require.resolve("adaptivecards/dist/adaptivecards.js", { paths: [REPO_ROOT] }));

// Microsoft Teams supports Adaptive Card schema up to 1.5.
const TARGET_VERSION = AC.Versions.v1_5;

function enumName(enumObject, value) {
    if (enumObject && typeof enumObject[value] === "string") {
        return enumObject[value];
    }
    return String(value);
}

function formatEvent(event) {
    const phase = enumName(AC.ValidationPhase, event.phase);
    const kind = enumName(AC.ValidationEvent, event.event);
    return `${phase}/${kind}: ${event.message}`;
}

function errorMessage(error) {
    return error && error.message ? error.message : String(error);
}

function checkCard(json) {
    const events = [];

    if (json === null || typeof json !== "object" || Array.isArray(json)) {
        events.push("Harness/InvalidCard: card must be a JSON object");
        return events;
    }

    // The library defaults a missing "type" to "AdaptiveCard", so it never complains about
    // it; a wrong (present) type is reported by validateProperties() below.
    if (!Object.prototype.hasOwnProperty.call(json, "type")) {
        events.push('Harness/MissingCardType: top-level "type" must be "AdaptiveCard"');
    }

    // Likewise a missing "version" silently defaults to 1.0 (the version property's default
    // value), so validateProperties() never reports it even though the schema requires it.
    if (json.version === undefined || json.version === null || json.version === "") {
        events.push('Harness/MissingCardVersion: top-level "version" must be set (e.g. "1.5")');
    }

    let card;
    const context = new AC.SerializationContext(TARGET_VERSION);
    try {
        card = new AC.AdaptiveCard();
        card.maxVersion = TARGET_VERSION;
        card.parse(json, context);
    } catch (error) {
        events.push(`Harness/ParseException: ${errorMessage(error)}`);
    }
    for (let i = 0; i < context.eventCount; i++) {
        events.push(formatEvent(context.getEventAt(i)));
    }
    if (!card) {
        return events;
    }

    try {
        const results = card.validateProperties();
        for (const event of results.validationEvents) {
            events.push(formatEvent(event));
        }
    } catch (error) {
        events.push(`Harness/ValidationException: ${errorMessage(error)}`);
    }

    const toJsonContext = new AC.SerializationContext(TARGET_VERSION);
    try {
        const serialised = card.toJSON(toJsonContext);
        if (serialised === undefined || serialised === null) {
            events.push("Harness/ToJSONFailed: card.toJSON() returned nothing");
        } else {
            JSON.stringify(serialised);
        }
    } catch (error) {
        events.push(`Harness/ToJSONException: ${errorMessage(error)}`);
    }
    for (let i = 0; i < toJsonContext.eventCount; i++) {
        events.push(formatEvent(toJsonContext.getEventAt(i)));
    }

    return events;
}

function main() {
    const chunks = [];
    process.stdin.on("data", (chunk) => chunks.push(chunk));
    process.stdin.on("end", () => {
        let cards;
        try {
            cards = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        } catch (error) {
            process.stderr.write(`parse_cards.js: stdin is not valid JSON: ${errorMessage(error)}\n`);
            process.exit(2);
        }
        if (!Array.isArray(cards)) {
            process.stderr.write("parse_cards.js: stdin must be a JSON array of cards\n");
            process.exit(2);
        }
        process.stdout.write(JSON.stringify(cards.map(checkCard)));
    });
}

main();
