#!/usr/bin/env python3
"""Deliberately naive reference implementation of `chronos replay`.

Scope: the non-risk mode without `--config` (every symbol is created on first use
with tick size 1 and lot size 1).  It reads JSON Lines commands on standard input
and writes JSON Lines events on standard output in exactly the byte format that
docs/replay.md documents, so that its output can be compared byte for byte with
the Swift engine's (`chronos replay`) on the same stream.

This file is written for clarity, not speed: every side of every book is a plain
Python list of order dicts kept in time-price priority order (best first), and
every rule of the contract is a few explicit lines below, in the order of the
rule it implements.  It is an independent implementation; it shares no code with
the Swift engine.

Usage:
    python3 replay_reference.py [--book-hash] [--order-capacity N] < commands.jsonl > events.jsonl

--book-hash       at end of input, write the final state of every non-empty book
                  to standard error as one JSON object (see `final_state`).
--order-capacity  the engine's resting-order capacity (default 1,000,000, as
                  `chronos replay`); it sets the `capacity_exhausted` limit and the
                  qty overflow ceiling floor((2**63 - 1) / capacity).

Only the Python 3.11 standard library is used.
"""

import argparse
import bisect
import json
import re
import sys

# --------------------------------------------------------------------------- #
# Constants (docs/replay.md)
# --------------------------------------------------------------------------- #

MAX_LINE_BYTES = 1 << 20          # a line longer than 1 MiB is malformed
MAX_DEPTH = 64                    # nesting deeper than 64 is malformed
U64_MAX = 2**64 - 1               # ids are unsigned 64-bit
I64_MAX = 2**63 - 1               # prices above this are invalid_price
DEFAULT_ORDER_CAPACITY = 1_000_000
JSON_WHITESPACE = b" \t\r\n"      # the only whitespace JSON knows

# Integers with more digits than this are replaced by a huge sentinel of the
# same sign while parsing: every range check below treats all of them alike
# (they are far outside 64 bits), and it avoids Python's 4300-digit limit on
# int() and its quadratic cost for megabyte-long numbers.
_LONG_INT_DIGITS = 40
_HUGE = 2**256


# --------------------------------------------------------------------------- #
# Parsing one line
# --------------------------------------------------------------------------- #

def _reject_constant(name):
    raise ValueError("non-finite number %s is not JSON" % name)


def _parse_int(text):
    if len(text) > _LONG_INT_DIGITS:
        return -_HUGE if text.startswith("-") else _HUGE
    return int(text)


def _keep_last_duplicate(pairs):
    # dict() of the pairs keeps the last value of a duplicated key.
    return dict(pairs)


# A JSON string (skipped as a whole) or one bracket.  On valid JSON this finds
# exactly the brackets outside strings; on invalid JSON the answer does not
# matter, as the line is malformed anyway.
_STRING_OR_BRACKET = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)


def nesting_depth(text):
    """Deepest nesting of objects/arrays; the top-level object counts as 1."""
    depth = 0
    deepest = 0
    for match in _STRING_OR_BRACKET.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif token in "]}":
            depth -= 1
    return deepest


def _has_lone_surrogate(value):
    """True if any string (key or value) holds an unpaired \\uD800-\\uDFFF escape."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False


def parse_line(line):
    """Parse one stripped, non-blank line (bytes).

    Returns the JSON object as a dict, or None when the line is malformed in a
    way where nothing on it is trusted (reported with "id": null).
    """
    try:
        text = line.decode("utf-8", errors="strict")
    except UnicodeDecodeError:
        return None
    if text.count("{") + text.count("[") > MAX_DEPTH and nesting_depth(text) > MAX_DEPTH:
        return None
    try:
        value = json.loads(
            text,
            parse_constant=_reject_constant,
            parse_int=_parse_int,
            object_pairs_hook=_keep_last_duplicate,
        )
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, dict):
        return None
    # An unpaired surrogate escape cannot become UTF-8: treat it as invalid JSON.
    if "\\u" in text and _has_lone_surrogate(value):
        return None
    return value


# --------------------------------------------------------------------------- #
# Reading fields (a malformed field raises Malformed)
# --------------------------------------------------------------------------- #

class Malformed(Exception):
    """The command is malformed (rejected with reason "malformed")."""


class _Absent:
    """Marker for an absent optional field (null is NOT absent)."""


ABSENT = _Absent()


def is_int(value):
    return type(value) is int          # bool is not an int, float is not an int


def reported_id(obj):
    """The id to put on a rejection: a JSON integer in 0..2**64-1, else None."""
    value = obj.get("id", ABSENT)
    if is_int(value) and 0 <= value <= U64_MAX:
        return value
    return None


def read_id(obj):
    value = obj.get("id", ABSENT)
    if not (is_int(value) and 0 <= value <= U64_MAX):
        raise Malformed("id")
    return value


def read_string(obj, key):
    value = obj.get(key, ABSENT)
    if type(value) is not str:
        raise Malformed(key)
    return value


def read_enum(obj, key, allowed, default=ABSENT):
    value = obj.get(key, ABSENT)
    if value is ABSENT and default is not ABSENT:
        return default
    if type(value) is not str or value not in allowed:
        raise Malformed(key)
    return value


def read_int(obj, key):
    value = obj.get(key, ABSENT)
    if not is_int(value):
        raise Malformed(key)
    return value


def read_optional_int(obj, key):
    value = obj.get(key, ABSENT)
    if value is ABSENT:
        return None
    if not is_int(value):
        raise Malformed(key)
    return value


def read_optional_bool(obj, key):
    value = obj.get(key, ABSENT)
    if value is ABSENT:
        return False
    if type(value) is not bool:
        raise Malformed(key)
    return value


# --------------------------------------------------------------------------- #
# Writing events (byte format of docs/replay.md)
# --------------------------------------------------------------------------- #

_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r",
                  "\t": "\\t", "\b": "\\b", "\f": "\\f"}


def json_string(s):
    """`"` and `\\` escaped, controls below U+0020 as \\n \\r \\t \\b \\f or
    \\u00xx (lower-case hex), everything else raw (UTF-8 on output)."""
    out = ['"']
    for ch in s:
        if ch in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[ch])
        elif ord(ch) < 0x20:
            out.append("\\u%04x" % ord(ch))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def json_id(value):
    return "null" if value is None else str(value)


def ev_accepted(order_id):
    return '{"ev":"accepted","id":%d}' % order_id


def ev_rejected(order_id, reason):
    return '{"ev":"rejected","id":%s,"reason":"%s"}' % (json_id(order_id), reason)


def ev_fill(taker, maker, price, qty):
    return '{"ev":"fill","taker":%d,"maker":%d,"price":%d,"qty":%d}' % (taker, maker, price, qty)


def ev_canceled(order_id, qty):
    return '{"ev":"canceled","id":%d,"qty":%d}' % (order_id, qty)


def ev_replaced(order_id, price, qty):
    return '{"ev":"replaced","id":%d,"price":%d,"qty":%d}' % (order_id, price, qty)


def ev_book(symbol, bids, asks):
    def levels(side):
        return "[" + ",".join("[%d,%d,%d]" % level for level in side) + "]"
    return '{"ev":"book","symbol":%s,"bids":%s,"asks":%s}' % (
        json_string(symbol), levels(bids), levels(asks))


# --------------------------------------------------------------------------- #
# The book
# --------------------------------------------------------------------------- #

def priority(order):
    """Sort key, smaller is better: best price first, then oldest (lowest seq)."""
    price_key = -order["price"] if order["side"] == "buy" else order["price"]
    return (price_key, order["seq"])


def crosses(side, limit_price, resting_price):
    """Would an incoming order on `side` with `limit_price` trade at `resting_price`?
    limit_price None means a market order (crosses everything)."""
    if limit_price is None:
        return True
    if side == "buy":
        return resting_price <= limit_price
    return resting_price >= limit_price


class Book:
    """One symbol's book: two plain lists of order dicts, best first."""

    def __init__(self):
        self.bids = []
        self.asks = []

    def side_list(self, side):
        return self.bids if side == "buy" else self.asks

    def opposite_list(self, side):
        return self.asks if side == "buy" else self.bids

    def insert(self, order):
        bisect.insort(self.side_list(order["side"]), order, key=priority)

    def remove(self, order):
        orders = self.side_list(order["side"])
        index = bisect.bisect_left(orders, priority(order), key=priority)
        assert orders[index] is order
        del orders[index]

    @staticmethod
    def levels(orders):
        """[[price, total_qty, order_count], ...] in the list's (best-first) order."""
        result = []
        for order in orders:
            if result and result[-1][0] == order["price"]:
                result[-1][1] += order["qty"]
                result[-1][2] += 1
            else:
                result.append([order["price"], order["qty"], 1])
        return [tuple(level) for level in result]


# --------------------------------------------------------------------------- #
# The engine
# --------------------------------------------------------------------------- #

class Engine:
    def __init__(self, order_capacity=DEFAULT_ORDER_CAPACITY):
        self.order_capacity = order_capacity
        self.qty_ceiling = I64_MAX // order_capacity   # overflow ceiling (docs)
        self.books = {}          # symbol -> Book (created on first use)
        self.resting = {}        # id -> order dict, for resting orders only
        self.used_ids = set()    # ids of accepted `new` orders (rule 10)
        self.seq = 0             # time priority counter
        self.events = []         # output lines (str, without "\n")

    # ----- helpers ---------------------------------------------------------

    def emit(self, line):
        self.events.append(line)

    def book(self, symbol):
        if symbol not in self.books:
            self.books[symbol] = Book()
        return self.books[symbol]

    def next_seq(self):
        self.seq += 1
        return self.seq

    def valid_price(self, price):
        return 1 <= price <= I64_MAX

    def valid_qty(self, qty):
        return 1 <= qty <= self.qty_ceiling

    def would_cross_best(self, book, side, price):
        """Post-only check (rule 15): plain price check against the best opposite
        order, whoever owns it."""
        opposite = book.opposite_list(side)
        return bool(opposite) and crosses(side, price, opposite[0]["price"])

    def fok_fillable(self, book, side, account, limit_price):
        """Rule 16: quantity available at or better than the limit, counted in
        priority order and stopping at the first resting order of the same account."""
        total = 0
        for maker in book.opposite_list(side):
            if not crosses(side, limit_price, maker["price"]):
                break
            if maker["account"] == account:
                break
            total += maker["qty"]
        return total

    def match(self, book, taker_id, side, account, limit_price, qty):
        """Trade an incoming quantity against the opposite side.

        Returns (remaining_qty, stopped_by_self_trade).  Emits fills.
        """
        opposite = book.opposite_list(side)
        while qty > 0 and opposite:
            maker = opposite[0]
            if not crosses(side, limit_price, maker["price"]):
                break
            if maker["account"] == account:           # rule 7
                return qty, True
            traded = min(qty, maker["qty"])
            self.emit(ev_fill(taker_id, maker["id"], maker["price"], traded))
            qty -= traded
            maker["qty"] -= traded
            if maker["qty"] == 0:
                opposite.pop(0)
                del self.resting[maker["id"]]
        return qty, False

    # ----- commands --------------------------------------------------------

    def handle(self, obj):
        """Process one parsed JSON object."""
        op = obj.get("op", ABSENT)
        handlers = {"new": self.cmd_new, "cancel": self.cmd_cancel,
                    "replace": self.cmd_replace, "book": self.cmd_book}
        try:
            if type(op) is not str or op not in handlers:
                raise Malformed("op")
            handlers[op](obj)
        except Malformed:
            self.emit(ev_rejected(reported_id(obj), "malformed"))

    def cmd_new(self, obj):
        # 1. malformed
        order_id = read_id(obj)
        account = read_string(obj, "account")
        symbol = read_string(obj, "symbol")
        side = read_enum(obj, "side", ("buy", "sell"))
        order_type = read_enum(obj, "type", ("limit", "market"))
        post_only = read_optional_bool(obj, "post_only")
        qty = read_int(obj, "qty")
        if order_type == "market":
            if post_only:
                raise Malformed("post_only on market")
            tif = None            # rule 14: price and tif ignored on market orders
            price = None
        else:
            tif = read_enum(obj, "tif", ("gtc", "ioc", "fok"), default="gtc")
            price = read_int(obj, "price")

        # 2. duplicate_id (only accepted ids count, rule 10)
        if order_id in self.used_ids:
            self.emit(ev_rejected(order_id, "duplicate_id"))
            return
        # 3. invalid_price
        if order_type == "limit" and not self.valid_price(price):
            self.emit(ev_rejected(order_id, "invalid_price"))
            return
        # 4. invalid_qty
        if not self.valid_qty(qty):
            self.emit(ev_rejected(order_id, "invalid_qty"))
            return
        book = self.book(symbol)
        # 5. post_only_would_cross
        if post_only and self.would_cross_best(book, side, price):
            self.emit(ev_rejected(order_id, "post_only_would_cross"))
            return
        # 6. fok_unfillable
        if tif == "fok" and self.fok_fillable(book, side, account, price) < qty:
            self.emit(ev_rejected(order_id, "fok_unfillable"))
            return
        # 7. capacity_exhausted (only a GTC limit order needs a slot)
        if tif == "gtc" and len(self.resting) >= self.order_capacity:
            self.emit(ev_rejected(order_id, "capacity_exhausted"))
            return

        self.used_ids.add(order_id)
        self.emit(ev_accepted(order_id))
        remaining, self_trade = self.match(book, order_id, side, account, price, qty)
        if remaining == 0:
            return
        if tif == "gtc" and not self_trade:
            order = {"id": order_id, "account": account, "symbol": symbol,
                     "side": side, "price": price, "qty": remaining,
                     "post_only": post_only, "seq": self.next_seq()}
            book.insert(order)
            self.resting[order_id] = order
        else:
            # IOC / market remainder, or self-trade cancel (FOK never gets here
            # with a remainder: it was checked to fill completely).
            self.emit(ev_canceled(order_id, remaining))

    def find_resting(self, order_id, symbol):
        """Rule 12: not resting, or resting under another symbol -> None."""
        order = self.resting.get(order_id)
        if order is None or order["symbol"] != symbol:
            return None
        return order

    def cmd_cancel(self, obj):
        order_id = read_id(obj)
        account = read_string(obj, "account")
        symbol = read_string(obj, "symbol")

        order = self.find_resting(order_id, symbol)
        if order is None:
            self.emit(ev_rejected(order_id, "unknown_order"))
            return
        if order["account"] != account:
            self.emit(ev_rejected(order_id, "not_owner"))
            return
        self.book(symbol).remove(order)
        del self.resting[order_id]
        self.emit(ev_canceled(order_id, order["qty"]))

    def cmd_replace(self, obj):
        # malformed
        order_id = read_id(obj)
        account = read_string(obj, "account")
        symbol = read_string(obj, "symbol")
        new_price = read_optional_int(obj, "price")
        new_qty = read_optional_int(obj, "qty")
        if new_price is None and new_qty is None:
            raise Malformed("replace with neither price nor qty")

        # unknown_order, then not_owner
        order = self.find_resting(order_id, symbol)
        if order is None:
            self.emit(ev_rejected(order_id, "unknown_order"))
            return
        if order["account"] != account:
            self.emit(ev_rejected(order_id, "not_owner"))
            return
        # invalid_price, invalid_qty
        if new_price is not None and not self.valid_price(new_price):
            self.emit(ev_rejected(order_id, "invalid_price"))
            return
        if new_qty is not None and not self.valid_qty(new_qty):
            self.emit(ev_rejected(order_id, "invalid_qty"))
            return
        if new_price is None:
            new_price = order["price"]
        if new_qty is None:
            new_qty = order["qty"]
        book = self.book(symbol)
        # post_only_would_cross: the flag stays with the resting order
        if order["post_only"] and self.would_cross_best(book, order["side"], new_price):
            self.emit(ev_rejected(order_id, "post_only_would_cross"))
            return

        self.emit(ev_replaced(order_id, new_price, new_qty))

        if new_price == order["price"] and new_qty <= order["qty"]:
            # Same price, qty not higher: keeps its place (equal qty is a no-op).
            order["qty"] = new_qty
            return

        # Price change or qty increase: loses priority, may cross like a new order.
        book.remove(order)
        del self.resting[order_id]
        remaining, self_trade = self.match(book, order_id, order["side"], account,
                                           new_price, new_qty)
        if remaining == 0:
            return
        if self_trade:
            self.emit(ev_canceled(order_id, remaining))
            return
        order["price"] = new_price
        order["qty"] = remaining
        order["seq"] = self.next_seq()
        book.insert(order)
        self.resting[order_id] = order

    def cmd_book(self, obj):
        symbol = read_string(obj, "symbol")
        book = self.book(symbol)
        self.emit(ev_book(symbol, Book.levels(book.bids), Book.levels(book.asks)))

    # ----- lines -------------------------------------------------------------

    def process_line(self, raw):
        """Process one input line (bytes, with or without its trailing b"\\n")."""
        if raw.endswith(b"\n"):
            raw = raw[:-1]
        if len(raw) > MAX_LINE_BYTES:
            self.emit(ev_rejected(None, "malformed"))
            return
        line = raw.strip(JSON_WHITESPACE)
        if not line:
            return                          # blank line: no event
        obj = parse_line(line)
        if obj is None:
            self.emit(ev_rejected(None, "malformed"))
            return
        self.handle(obj)

    # ----- state -----------------------------------------------------------

    def final_state(self):
        """{symbol: {"bids": [[price, [[id, account, qty], ...]], ...], "asks": ...}}
        for every symbol with a non-empty book, symbols sorted by UTF-8 bytes,
        levels best first, orders in time priority."""
        def side_state(orders):
            levels = []
            for order in orders:
                entry = [order["id"], order["account"], order["qty"]]
                if levels and levels[-1][0] == order["price"]:
                    levels[-1][1].append(entry)
                else:
                    levels.append([order["price"], [entry]])
            return levels

        state = {}
        for symbol in sorted(self.books, key=lambda s: s.encode("utf-8")):
            book = self.books[symbol]
            if book.bids or book.asks:
                state[symbol] = {"bids": side_state(book.bids), "asks": side_state(book.asks)}
        return state

    def check_invariants(self):
        """For tests: the book is sorted, never crossed, and matches the index."""
        count = 0
        for symbol, book in self.books.items():
            for side, orders in (("buy", book.bids), ("sell", book.asks)):
                keys = [priority(o) for o in orders]
                assert keys == sorted(keys), "side not in priority order"
                for order in orders:
                    assert order["side"] == side and order["symbol"] == symbol
                    assert order["qty"] > 0
                    assert self.resting.get(order["id"]) is order
                    assert order["id"] in self.used_ids
                count += len(orders)
            if book.bids and book.asks:
                assert book.bids[0]["price"] < book.asks[0]["price"], "crossed book"
        assert count == len(self.resting)


def replay(lines, engine=None):
    """Convenience for tests: run an iterable of byte lines, return event lines."""
    engine = engine or Engine()
    for raw in lines:
        engine.process_line(raw)
    return engine.events


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--book-hash", action="store_true",
                        help="at end, write the final books as one JSON object to stderr")
    parser.add_argument("--order-capacity", type=int, default=DEFAULT_ORDER_CAPACITY,
                        help="resting-order capacity (default %(default)s)")
    args = parser.parse_args(argv)
    if args.order_capacity < 1:
        parser.error("--order-capacity must be positive")

    engine = Engine(order_capacity=args.order_capacity)
    out = sys.stdout.buffer
    for raw in sys.stdin.buffer:           # splits on b"\n" only
        engine.process_line(raw)
        if len(engine.events) >= 4096:
            out.write(("\n".join(engine.events) + "\n").encode("utf-8"))
            engine.events.clear()
    if engine.events:
        out.write(("\n".join(engine.events) + "\n").encode("utf-8"))
        engine.events.clear()
    out.flush()
    if args.book_hash:
        state = json.dumps(engine.final_state(), ensure_ascii=False, separators=(",", ":"))
        sys.stderr.buffer.write((state + "\n").encode("utf-8"))
        sys.stderr.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
