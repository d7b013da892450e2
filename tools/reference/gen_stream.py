#!/usr/bin/env python3
"""Seeded random command-stream generator for `chronos replay`.

    python3 gen_stream.py --seed S --count N [--symbols K] [--accounts A] [--malformed-rate R]

writes N lines of JSON Lines commands to standard output (a blank or
whitespace-only line, which the replay skips, counts as one of the N).
The same arguments always give the same bytes (random.Random(seed), no clock,
no hash-order dependence).

The generator feeds every line it writes through a shadow copy of the reference
engine (replay_reference.Engine, events discarded) so that it knows the real
touch and which orders rest; this only aims the commands, the stream is still
checked by whatever replays it.  The mix is meant to be realistic and
adversarial at once:

- ~55% new limit orders: mostly passive at a geometric distance behind the
  touch (sometimes improving it), some marketable through the opposite touch;
  some post_only (which then sometimes cross); some IOC/FOK limits;
- ~10% market / IOC / FOK takers;
- ~20% cancels: mostly of resting orders by their owner, some by a foreign
  account, under the wrong symbol, of unknown ids, repeated cancels;
- ~10% replaces of resting orders: price and/or qty, up and down, no-op
  replaces, replaces to a crossing price, invalid price/qty, foreign account,
  unknown id, wrong symbol;
- ~1.5% `book` snapshots, ~3.5% odd-but-valid or edge-valued commands
  (invalid_price/invalid_qty values, 2**63-1 prices, qty at the overflow
  ceiling, exotic symbol and account strings, ids 0 and 2**64-1, ...);
- few accounts (default 4), so self-trade prevention triggers often;
- ids mostly increasing, with gaps, back-fills, duplicates and huge ids;
- at --malformed-rate, malformed lines of many kinds (bad JSON, floats,
  strings for numbers, unknown enums, missing fields, null, arrays, NaN,
  invalid UTF-8, lone surrogates, BOM, deep nesting, blank lines, ...), plus a
  few boundary probes that are valid (nesting depth exactly 64).

Once more than 500 * K orders rest, 40% of the would-be new limit orders become
cancels, so the books stay a realistic depth (a few hundred orders a side) and
`book` snapshots stay cheap; the steady-state mix then has more cancels.

Well-formed commands also vary in surface syntax: key order, spaces, unknown
fields, `ts`, \\r\\n endings, \\u escapes in strings, duplicate keys (last wins).

Only the Python 3.11 standard library is used.
"""

import argparse
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import replay_reference  # noqa: E402  (shadow book, to aim cancels/replaces/prices)

U64_MAX = 2**64 - 1
I64_MAX = 2**63 - 1
TICKERS = ["AAPL", "MSFT", "BRK.B", "TSLA", "NVDA", "AMZN", "GOOG", "META",
           "IBM", "ORCL", "INTC", "AMD", "CSCO", "KO", "PEP", "XOM"]
# Valid symbols with characters that must be escaped or written raw on output.
EXOTIC_SYMBOLS = ["ÄPFEL", "Ω\"\\/", "tab\there", "nul\u0000\u001f\u007f", "😀€", ""]


class Raw:
    """A value written verbatim into the JSON text (floats as typed, NaN, ...)."""

    def __init__(self, text):
        self.text = text


class Generator:
    def __init__(self, seed, symbols, accounts, malformed_rate):
        self.r = random.Random(seed)
        self.symbols = [TICKERS[i] if i < len(TICKERS) else "SYM%d" % i for i in range(symbols)]
        self.accounts = ["A%d" % i for i in range(accounts)]
        self.malformed_rate = malformed_rate
        self.mid = {s: 10_000 + self.r.randrange(-2_000, 2_000) for s in self.symbols}
        self.next_id = 1
        self.issued = []            # every id put on a `new`, for duplicates
        self.candidates = []        # ids that may rest (checked against the shadow)
        self.canceled = []          # recently canceled ids (for repeat cancels)
        # The generator replays its own stream through the reference engine to know
        # the touch and which orders rest; events are discarded.
        self.shadow = replay_reference.Engine()
        self.depth_cap = 500 * symbols      # resting orders above which new -> cancel
        self.ts = 1_700_000_000_000_000_000

    # ----- small random helpers -----------------------------------------

    def chance(self, p):
        return self.r.random() < p

    def geometric(self, p, cap=200):
        """Number of failures before the first success, capped."""
        n = 0
        while n < cap and self.r.random() >= p:
            n += 1
        return n

    def qty(self):
        u = self.r.random()
        if u < 0.6:
            return self.r.randint(1, 100)
        if u < 0.9:
            return 100 * self.r.randint(1, 10)
        if u < 0.99:
            return self.r.randint(1, 5_000)
        return self.r.randint(10_000, 1_000_000)

    def symbol(self):
        # Skewed: the first symbols are busier.
        return self.symbols[min(int(self.r.expovariate(0.7)), len(self.symbols) - 1)]

    def account(self):
        return self.r.choice(self.accounts)

    def new_id(self):
        u = self.r.random()
        if u < 0.90 or not self.issued:
            order_id = self.next_id
            self.next_id += 1
        elif u < 0.94:                                      # gap
            self.next_id += self.r.randint(2, 300)
            order_id = self.next_id
            self.next_id += 1
        elif u < 0.965:                                     # duplicate of an issued id
            order_id = self.r.choice(self.issued[-2000:])
        elif u < 0.99:                                      # back-fill below next_id
            order_id = self.r.randrange(0, self.next_id)
        else:                                               # huge but valid
            order_id = self.r.choice((U64_MAX, U64_MAX - self.r.randrange(1000),
                                      2**63 + self.r.randrange(1000), 2**63 - 1, 0))
        self.issued.append(order_id)
        return order_id

    def remember(self, order_id):
        """Note an id that may come to rest (the shadow book decides if it does)."""
        self.candidates.append(order_id)

    def resting(self, order_id):
        """The shadow book's resting order with this id, or None."""
        return self.shadow.resting.get(order_id)

    def pick_live(self):
        """A resting id (per the shadow book), biased to recent ones; None if none."""
        while self.candidates:
            n = len(self.candidates)
            if self.chance(0.5):
                index = n - 1 - min(self.geometric(0.05, cap=n - 1), n - 1)
            else:
                index = self.r.randrange(n)
            order_id = self.candidates[index]
            if self.resting(order_id) is not None:
                return order_id
            self.candidates[index] = self.candidates[-1]      # drop a stale entry
            self.candidates.pop()
        return None

    def touch(self, symbol):
        """(best bid, best ask) of the shadow book, None for an empty side."""
        book = self.shadow.books.get(symbol)
        if book is None:
            return None, None
        best_bid = book.bids[0]["price"] if book.bids else None
        best_ask = book.asks[0]["price"] if book.asks else None
        return best_bid, best_ask

    def drift(self, symbol):
        """Move the symbol's mid: follow the book's touch, plus a random walk."""
        best_bid, best_ask = self.touch(symbol)
        if best_bid is not None and best_ask is not None:
            self.mid[symbol] = (best_bid + best_ask) // 2
        self.mid.setdefault(symbol, 100)
        if self.chance(0.3):
            self.mid[symbol] = max(50, self.mid[symbol] + self.r.choice((-2, -1, -1, 1, 1, 2)))

    def passive_price(self, symbol, side):
        """Geometric distance behind the own-side touch (sometimes improving it)."""
        best_bid, best_ask = self.touch(symbol)
        mid = self.mid.setdefault(symbol, 100)
        if side == "buy":
            ref = best_bid if best_bid is not None else mid - 1
            limit = best_ask - 1 if best_ask is not None else None
            price = ref + 1 if self.chance(0.15) else ref - self.geometric(0.3)
            if limit is not None:
                price = min(price, limit)
        else:
            ref = best_ask if best_ask is not None else mid + 1
            limit = best_bid + 1 if best_bid is not None else None
            price = ref - 1 if self.chance(0.15) else ref + self.geometric(0.3)
            if limit is not None:
                price = max(price, limit)
        return max(1, price)

    def aggressive_price(self, symbol, side):
        """At or through the opposite touch (sometimes just short of it)."""
        best_bid, best_ask = self.touch(symbol)
        mid = self.mid.setdefault(symbol, 100)
        depth = self.geometric(0.35) - (1 if self.chance(0.1) else 0)
        if side == "buy":
            ref = best_ask if best_ask is not None else mid + 1
            return max(1, ref + depth)
        ref = best_bid if best_bid is not None else mid - 1
        return max(1, ref - depth)

    # ----- serialisation ------------------------------------------------

    def encode_value(self, value, ascii_only):
        if isinstance(value, Raw):
            return value.text
        return json.dumps(value, ensure_ascii=ascii_only)

    def encode(self, pairs, shuffle=True, decorate=True):
        """JSON text of an object given as (key, value) pairs, with varied syntax."""
        pairs = list(pairs)
        if shuffle and self.chance(0.2):
            self.r.shuffle(pairs)
        if decorate:
            if self.chance(0.05):
                pairs.append(("ts", self.next_ts()))
            if self.chance(0.03):
                pairs.append(self.r.choice([
                    ("client", "x"), ("note", {"a": [1, 2.5, None, True]}),
                    ("meta", None), ("seq", 1.5), ("tag", "\u00e9\u2028")]))
            if self.chance(0.01) and len(pairs) > 2:
                # duplicate key: a junk value first, the real one last (last wins)
                key, value = self.r.choice(pairs[1:])
                pairs.insert(0, (key, self.r.choice(["junk", 1.5, None, [1]])))
        ascii_only = self.chance(0.5)
        if self.chance(0.1):
            item_sep, key_sep = ", ", ": "
        else:
            item_sep, key_sep = ",", ":"
        body = item_sep.join(json.dumps(k, ensure_ascii=ascii_only) + key_sep
                             + self.encode_value(v, ascii_only) for k, v in pairs)
        text = "{" + body + "}"
        if self.chance(0.02):
            text = self.r.choice([" ", "\t", "  "]) + text + self.r.choice([" ", "\t", "\r"])
        return text

    def next_ts(self):
        self.ts += self.r.randint(0, 5_000_000)
        return self.ts

    # ----- commands -----------------------------------------------------

    def cmd_new_limit(self):
        symbol = self.symbol()
        self.drift(symbol)
        side = self.r.choice(("buy", "sell"))
        if self.chance(0.8):
            price = self.passive_price(symbol, side)
        else:
            price = self.aggressive_price(symbol, side)
        qty = self.qty()
        account = self.account()
        order_id = self.new_id()
        tif = self.r.choices(("gtc", None, "ioc", "fok"), weights=(60, 25, 10, 5))[0]
        post_only = self.chance(0.08)
        pairs = [("op", "new"), ("id", order_id), ("account", account),
                 ("symbol", symbol), ("side", side), ("type", "limit")]
        if tif is not None:
            pairs.append(("tif", tif))
        pairs += [("price", price), ("qty", qty)]
        if post_only:
            pairs.append(("post_only", True))
        elif self.chance(0.05):
            pairs.append(("post_only", False))
        if tif in ("gtc", None):
            self.remember(order_id)
        return self.encode(pairs)

    def cmd_taker(self):
        symbol = self.symbol()
        self.drift(symbol)
        side = self.r.choice(("buy", "sell"))
        kind = self.r.choices(("market", "ioc", "fok"), weights=(45, 30, 25))[0]
        qty = self.qty() if self.chance(0.6) else self.r.randint(1, 30)
        pairs = [("op", "new"), ("id", self.new_id()), ("account", self.account()),
                 ("symbol", symbol), ("side", side)]
        if kind == "market":
            pairs += [("type", "market"), ("qty", qty)]
            if self.chance(0.1):            # ignored on a market order, whatever they are
                pairs.append(self.r.choice([("price", 1), ("price", "abc"), ("tif", "day"),
                                            ("tif", "fok"), ("price", -5), ("price", 1.5),
                                            ("tif", None), ("price", None)]))
            if self.chance(0.05):
                pairs.append(("post_only", False))
        else:
            price = self.aggressive_price(symbol, side)
            pairs += [("type", "limit"), ("tif", kind), ("price", price), ("qty", qty)]
            if self.chance(0.05):
                pairs.append(("post_only", True))
        return self.encode(pairs)

    def cmd_cancel(self):
        u = self.r.random()
        order_id = self.pick_live()
        order = self.resting(order_id) if order_id is not None else None
        if order is not None and u < 0.78:                    # a resting order, by its owner
            self.canceled.append(order_id)
            if len(self.canceled) > 500:
                del self.canceled[:250]
            return self.encode([("op", "cancel"), ("id", order_id),
                                ("account", order["account"]), ("symbol", order["symbol"])])
        if order is not None and u < 0.86:                    # foreign account
            others = [a for a in self.accounts if a != order["account"]] or ["ZZ"]
            return self.encode([("op", "cancel"), ("id", order_id),
                                ("account", self.r.choice(others)), ("symbol", order["symbol"])])
        if order is not None and u < 0.90:                    # wrong symbol, right owner
            others = [s for s in self.symbols if s != order["symbol"]] or ["ZZZ"]
            return self.encode([("op", "cancel"), ("id", order_id),
                                ("account", order["account"]), ("symbol", self.r.choice(others))])
        if u < 0.95 and self.canceled:                        # cancel again (now unknown)
            order_id = self.r.choice(self.canceled)
        else:                                                 # unknown / filled / rejected id
            order_id = self.r.choice((self.next_id + self.r.randint(0, 100),
                                      self.r.randrange(0, self.next_id + 1), U64_MAX))
        return self.encode([("op", "cancel"), ("id", order_id),
                            ("account", self.account()), ("symbol", self.symbol())])

    def cmd_replace(self):
        order_id = self.pick_live()
        order = self.resting(order_id) if order_id is not None else None
        if order is None:
            return self.cmd_new_limit()
        account, symbol, side = order["account"], order["symbol"], order["side"]
        price, qty = order["price"], order["qty"]
        u = self.r.random()
        new_price = new_qty = None
        if u < 0.30:                                          # qty only: down, equal, up
            new_qty = self.r.choice((max(1, qty // 2), max(1, qty - 1), qty, qty + 1,
                                     qty * 2, self.qty()))
        elif u < 0.55:                                        # price only, small move
            new_price = max(1, price + self.r.choice((-3, -2, -1, 1, 2, 3)))
        elif u < 0.68:                                        # both
            new_price = max(1, price + self.r.choice((-2, -1, 0, 1, 2)))
            new_qty = self.qty()
        elif u < 0.78:                                        # to a crossing price
            new_price = self.aggressive_price(symbol, side)
            if self.chance(0.5):
                new_qty = self.qty()
        elif u < 0.82:                                        # no-op (both, or price only)
            new_price = price
            new_qty = qty if self.chance(0.5) else None
        elif u < 0.90:                                        # invalid values
            new_price, new_qty = self.r.choice([(0, None), (-5, None), (None, 0),
                                                (None, -1), (2**63, None),
                                                (None, 2**63), (price, 9_223_372_036_855),
                                                (-1, 0), (None, 9_223_372_036_854),
                                                (10**30, None), (None, -10**30)])
        elif u < 0.95:                                        # foreign account
            others = [a for a in self.accounts if a != account] or ["ZZ"]
            account = self.r.choice(others)
            new_qty = qty + 1
        else:                                                 # wrong symbol / unknown id
            if self.chance(0.5):
                symbol = self.r.choice([s for s in self.symbols if s != symbol] or ["ZZZ"])
            elif self.canceled and self.chance(0.5):
                order_id = self.r.choice(self.canceled)
            else:
                order_id = self.next_id + 10_000 + self.r.randrange(100)
            new_qty = qty
        pairs = [("op", "replace"), ("id", order_id), ("account", account), ("symbol", symbol)]
        if new_price is not None:
            pairs.append(("price", new_price))
        if new_qty is not None:
            pairs.append(("qty", new_qty))
        return self.encode(pairs)

    def cmd_book(self):
        symbol = self.symbol() if self.chance(0.95) else self.r.choice(["ZZZ"] + EXOTIC_SYMBOLS)
        pairs = [("op", "book"), ("symbol", symbol)]
        if self.chance(0.1):
            pairs.append(("id", self.r.choice((7, "x", None, -1, 1.5, U64_MAX))))
        return self.encode(pairs)

    def cmd_odd_valid(self):
        """Valid commands with edge values or unusual spelling."""
        u = self.r.random()
        symbol = self.symbol()
        side = self.r.choice(("buy", "sell"))
        passive = self.passive_price(symbol, side)
        base = [("op", "new"), ("id", self.new_id()), ("account", self.account()),
                ("symbol", symbol), ("side", side), ("type", "limit")]
        if u < 0.15:                                          # invalid_price
            return self.encode(base + [("price", self.r.choice((0, -1, -10**30, 2**63,
                                                                 10**40, I64_MAX + 12))),
                                       ("qty", self.qty())])
        if u < 0.30:                                          # invalid_qty
            return self.encode(base + [("price", passive), ("qty", self.r.choice(
                (0, -5, 2**63, 10**25, 9_223_372_036_855, -10**30)))])
        if u < 0.40:                                          # both invalid: price first
            return self.encode(base + [("price", 0), ("qty", 0)])
        if u < 0.48:                                          # huge-but-valid price / qty
            order_id = base[1][1]
            price, qty = self.r.choice(((I64_MAX, 1), (1, 9_223_372_036_854),
                                        (passive, 9_223_372_036_854)))
            if side == "buy" and price == I64_MAX:
                price = 1
            elif side == "sell" and price == 1:
                price = I64_MAX
            self.remember(order_id)
            return self.encode(base + [("price", price), ("qty", qty)])
        if u < 0.63:                                          # exotic symbol
            sym = self.r.choice(EXOTIC_SYMBOLS)
            base[3] = ("symbol", sym)
            price = self.r.randint(95, 105)
            if self.chance(0.2):
                return self.encode([("op", "book"), ("symbol", sym)])
            self.remember(base[1][1])
            return self.encode(base + [("price", price), ("qty", self.r.randint(1, 10))])
        if u < 0.73:                                          # exotic account strings
            base[2] = ("account", self.r.choice(("", "A0 ", "a0", "Å", "A\u00000")))
            self.remember(base[1][1])
            return self.encode(base + [("price", passive), ("qty", 5)])
        if u < 0.83:                                          # id edge values
            base[1] = ("id", self.r.choice((0, U64_MAX, 2**63, 2**63 - 1)))
            self.remember(base[1][1])
            return self.encode(base + [("price", passive), ("qty", 1)])
        if u < 0.93:                                          # \r\n line end, padding
            self.remember(base[1][1])
            return self.encode(base + [("price", passive), ("qty", 10)]) + "\r"
        # post_only that surely crosses
        price = self.aggressive_price(symbol, side)
        return self.encode(base + [("price", price), ("qty", 3), ("post_only", True)])

    # ----- malformed ----------------------------------------------------

    def malformed(self):
        """One malformed line (str or bytes) of a random kind."""
        symbol = self.symbol()
        order_id = self.next_id + self.r.randrange(3)
        good = [("op", "new"), ("id", order_id), ("account", self.account()),
                ("symbol", symbol), ("side", "buy"), ("type", "limit"),
                ("tif", "gtc"), ("price", self.mid[symbol] - 5), ("qty", 10)]

        def with_field(key, value):
            return [(k, value if k == key else v) for k, v in good]

        def without(key):
            return [(k, v) for k, v in good if k != key]

        kind = self.r.randrange(32)
        enc = lambda pairs: self.encode(pairs, decorate=False)
        if kind == 0:
            return ""                                         # blank line (no event)
        if kind == 1:
            return self.r.choice(("   ", "\t", "\r", " \t \r"))   # whitespace only
        if kind == 2:
            text = enc(good)
            return text[: self.r.randrange(1, len(text))]     # truncated JSON
        if kind == 3:
            return enc(good) + self.r.choice((" x", "}", ",", " {}", "\"", " 1"))
        if kind == 4:
            return enc(with_field("price", Raw(self.r.choice(("100.0", "1e3", "10050.5",
                                                               "1E2", "-0.0")))))
        if kind == 5:
            return enc(with_field("qty", Raw(self.r.choice(("10.0", "1e1", "5E0")))))
        if kind == 6:
            return enc(with_field("id", Raw(self.r.choice(("1.0", "7e0", "2.5")))))
        if kind == 7:
            return enc(with_field(self.r.choice(("price", "qty")), str(self.r.randint(1, 999))))
        if kind == 8:
            return enc(with_field("id", str(order_id)))
        if kind == 9:
            return enc(with_field("side", self.r.choice(("BUY", "Sell", "bid", "", "b"))))
        if kind == 10:
            return enc(with_field("type", self.r.choice(("stop", "LIMIT", "mkt", ""))))
        if kind == 11:
            return enc(with_field("tif", self.r.choice(("day", "GTC", "gtd", "", "ioc "))))
        if kind == 12:
            return enc(with_field("op", self.r.choice(("modify", "NEW", "amend", "", "cancel_all"))))
        if kind == 13:
            return enc(without(self.r.choice(("op", "id", "account", "symbol", "side",
                                              "type", "price", "qty"))))
        if kind == 14:
            return enc(with_field(self.r.choice(("id", "account", "symbol", "side", "type",
                                                 "tif", "price", "qty", "op")), None))
        if kind == 15:
            return self.r.choice(("[]", "[1,2]", enc(good).join("[]"), "\"new\"", "42",
                                  "null", "true", "{}", "[{\"op\":\"book\",\"symbol\":\"AAPL\"}]"))
        if kind == 16:
            return enc(with_field(self.r.choice(("price", "qty", "id")),
                                  Raw(self.r.choice(("NaN", "Infinity", "-Infinity")))))
        if kind == 17:                                        # market + post_only true
            pairs = [p for p in without("tif") if p[0] != "price"]
            pairs = [(k, "market" if k == "type" else v) for k, v in pairs]
            return enc(pairs + [("post_only", True)])
        if kind == 18:
            return enc(good + [("post_only", self.r.choice(("true", 1, None, "yes")))])
        if kind == 19:                                        # replace with neither
            order_id = self.pick_live() or 1
            return enc([("op", "replace"), ("id", order_id), ("account", self.account()),
                        ("symbol", symbol)] + self.r.choice(([], [("price", None)],
                                                             [("qty", "5")], [("qty", 5.0)])))
        if kind == 20:                                        # cancel missing fields
            return enc(self.r.choice(([("op", "cancel"), ("id", order_id)],
                                      [("op", "cancel"), ("id", order_id), ("account", "A0")],
                                      [("op", "cancel"), ("account", "A0"), ("symbol", symbol)],
                                      [("op", "cancel"), ("id", "7"), ("account", "A0"),
                                       ("symbol", symbol)])))
        if kind == 21:                                        # book without symbol
            return enc(self.r.choice(([("op", "book")], [("op", "book"), ("symbol", 5)],
                                      [("op", "book"), ("id", 9)],
                                      [("op", "book"), ("symbol", None), ("id", 3)])))
        if kind == 22:                                        # id out of range
            return enc(with_field("id", self.r.choice((-1, 2**64, 2**64 + 5, -2**63,
                                                      10**30))))
        if kind == 23:                                        # bools as numbers
            return enc(with_field(self.r.choice(("id", "price", "qty")), self.r.choice((True, False))))
        if kind == 24:                                        # invalid UTF-8
            text = enc(good).encode("utf-8")
            cut = self.r.randrange(1, len(text))
            junk = self.r.choice((b"\xff", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80", b"\xc0\xaf"))
            return text[:cut] + junk + text[cut:]
        if kind == 25:                                        # deep nesting in ignored field
            depth = self.r.choice((64, 65, 100, 63))
            return enc(good + [("x", Raw("[" * depth + "]" * depth))])
        if kind == 26:                                        # single quotes / bare words
            return self.r.choice(("{'op':'new'}", "{op:\"book\",symbol:\"AAPL\"}",
                                  "{\"op\":\"book\",\"symbol\":\"AAPL\",}", "nul", "{\"op\":\"book\" \"symbol\":\"AAPL\"}"))
        if kind == 27:                                        # control char inside a string
            return enc(good).replace("\"buy\"", "\"bu\ty\"")
        if kind == 28:                                        # lone surrogate escape
            return enc(with_field("account", Raw("\"\\ud800A\"")))
        if kind == 29:                                        # BOM
            return "\ufeff" + enc(good)
        if kind == 30:                                        # account/symbol not strings
            return enc(with_field(self.r.choice(("account", "symbol")), self.r.choice((7, ["A"], {"a": 1}))))
        # non-integer leading zeros / plus sign / hex
        return enc(with_field(self.r.choice(("qty", "price", "id")),
                              Raw(self.r.choice(("010", "+5", "0x10", "- 5", ".5")))))

    # ----- driver -------------------------------------------------------

    def line(self):
        if self.chance(self.malformed_rate):
            return self.malformed()
        kind = self.r.choices(("new", "taker", "cancel", "replace", "book", "odd"),
                              weights=(55, 10, 20, 10, 1.5, 3.5))[0]
        if kind == "new" and len(self.shadow.resting) > self.depth_cap and self.chance(0.4):
            kind = "cancel"         # keep the books from growing without bound
        if kind == "new":
            return self.cmd_new_limit()
        if kind == "taker":
            return self.cmd_taker()
        if kind == "cancel":
            return self.cmd_cancel()
        if kind == "replace":
            return self.cmd_replace()
        if kind == "book":
            return self.cmd_book()
        return self.cmd_odd_valid()


def generate(seed, count, symbols=3, accounts=4, malformed_rate=0.02):
    """Yield `count` lines as bytes, each ending in b"\\n"."""
    gen = Generator(seed, symbols, accounts, malformed_rate)
    for _ in range(count):
        line = gen.line()
        if isinstance(line, str):
            line = line.encode("utf-8")
        gen.shadow.process_line(line)      # keep the shadow book in step
        gen.shadow.events.clear()
        yield line + b"\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description="Seeded random command stream for chronos replay.")
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--symbols", type=int, default=3)
    parser.add_argument("--accounts", type=int, default=4)
    parser.add_argument("--malformed-rate", type=float, default=0.02)
    args = parser.parse_args(argv)
    if args.symbols < 1 or args.accounts < 1 or args.count < 0 \
            or not 0.0 <= args.malformed_rate <= 1.0:
        parser.error("need --symbols >= 1, --accounts >= 1, --count >= 0, 0 <= --malformed-rate <= 1")
    out = sys.stdout.buffer
    chunk = []
    for line in generate(args.seed, args.count, args.symbols, args.accounts, args.malformed_rate):
        chunk.append(line)
        if len(chunk) >= 4096:
            out.write(b"".join(chunk))
            chunk.clear()
    out.write(b"".join(chunk))
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
