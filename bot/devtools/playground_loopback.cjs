"use strict";
/*
 * Preloaded into Microsoft's Agents Playground (`node --require <this file> cli.js ...`, and
 * through NODE_OPTIONS into any node process it starts) by bot/devtools/playground.py.
 *
 * The Playground's CLI has no host option: it calls `server.listen(port)`, which binds all
 * interfaces, and it relays to a bot that runs without authentication in local mode. This
 * wraps net.Server.prototype.listen (http, https and tls servers inherit it) so that every TCP
 * listen binds loopback only:
 *
 *   - no host (`listen()`, `listen(cb)`, `listen(port, ...)`, `listen({port})`), an unspecified
 *     address (0.0.0.0, ::) or any other non-loopback host becomes 127.0.0.1 (::1 for an
 *     IPv6-only listen, which cannot bind an IPv4 address);
 *   - hosts that already are loopback (127.0.0.0/8, ::1, "localhost") stay as they are;
 *   - Unix sockets, Windows pipes and inherited handles or file descriptors are left alone.
 *
 * Fail closed: should a listen still end up on another address (a call form this file does
 * not know), the server is closed and the process stops with an error.
 */

const net = require("node:net");

const PATCHED = Symbol.for("videoberatung-bot.devtools.playground-loopback");
const CHECKED = Symbol("videoberatung-bot.devtools.playground-loopback.checked");
const LOOPBACK_IPV4 = "127.0.0.1";
const LOOPBACK_IPV6 = "::1";

const loopback = new net.BlockList();
loopback.addSubnet("127.0.0.0", 8, "ipv4");
loopback.addAddress(LOOPBACK_IPV6, "ipv6");

function isLoopbackAddress(address) {
  if (typeof address !== "string") return false;
  const family = net.isIP(address);
  if (family === 0) return false;
  return loopback.check(address, family === 6 ? "ipv6" : "ipv4");
}

function isLoopbackHost(host) {
  return host === "localhost" || isLoopbackAddress(host);
}

// Node's own rules (lib/net.js): a string that is not a non-negative number is a pipe path.
function toNumber(value) {
  const number = Number(value);
  return number >= 0 ? number : false;
}

function isPipeName(value) {
  return typeof value === "string" && toNumber(value) === false;
}

// `listen(options[, cb])` that opens a TCP port, as opposed to a pipe path or a handle.
function isTcpOptions(options) {
  if ((options._handle || options.handle || options) !== options) return false;
  if (typeof options.fd === "number" && options.fd >= 0) return false;
  return typeof options.port === "number" || typeof options.port === "string" || "port" in options;
}

function loopbackArguments(args) {
  const [first, ...rest] = args;
  if (first !== null && typeof first === "object") {
    // (options[, cb]) or (handle[, backlog][, cb])
    if (!isTcpOptions(first) || isLoopbackHost(first.host)) return args;
    const host = first.ipv6Only ? LOOPBACK_IPV6 : LOOPBACK_IPV4;
    // A child of the caller's object: every other option is still read from it, unchanged.
    return [Object.assign(Object.create(first), { host }), ...rest];
  }
  if (args.length === 0 || typeof first === "function") {
    // listen() / listen(cb): an arbitrary free port
    return [0, LOOPBACK_IPV4, ...args];
  }
  if (isPipeName(first)) return args; // (path[, backlog][, cb])
  // ([port][, host][, backlog][, cb]): the host is the second argument if it is a string
  const [second, ...others] = rest;
  if (typeof second === "string") {
    return isLoopbackHost(second) ? args : [first, LOOPBACK_IPV4, ...others];
  }
  if (rest.length > 0 && second == null) return [first, LOOPBACK_IPV4, ...others];
  return [first, LOOPBACK_IPV4, ...rest];
}

function refuseOtherAddresses() {
  const address = this.address();
  if (address === null || typeof address !== "object") return; // a pipe
  if (isLoopbackAddress(address.address)) return;
  this.close();
  throw new Error(
    `playground_loopback: a server listened on ${address.address}:${address.port}, ` +
      "not on loopback; closed it.",
  );
}

function install() {
  const proto = net.Server.prototype;
  if (proto[PATCHED]) return; // preloaded twice (--require and NODE_OPTIONS)
  const originalListen = proto.listen;
  function listen(...args) {
    if (!this[CHECKED]) {
      this[CHECKED] = true;
      this.on("listening", refuseOtherAddresses);
    }
    return originalListen.apply(this, loopbackArguments(args));
  }
  Object.defineProperty(proto, "listen", {
    ...Object.getOwnPropertyDescriptor(proto, "listen"),
    value: listen,
  });
  Object.defineProperty(proto, PATCHED, { value: true });
}

install();

module.exports = { loopbackArguments, isLoopbackHost };
