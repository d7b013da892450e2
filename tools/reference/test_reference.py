"""Self-tests of the reference replay and the stream generator.

Run from the repository root:
    python3 -m unittest discover -s tools/reference

Every expected output below was worked out by hand from the spec and
docs/replay.md; the comments say why.
"""

import json
import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import gen_stream  # noqa: E402
import replay_reference as ref  # noqa: E402

NULL_MALFORMED = '{"ev":"rejected","id":null,"reason":"malformed"}'


def line_bytes(command):
    if isinstance(command, dict):
        return json.dumps(command, separators=(",", ":")).encode("utf-8")
    if isinstance(command, str):
        return command.encode("utf-8")
    return command


def run(*commands, engine=None):
    engine = engine or ref.Engine()
    for command in commands:
        engine.process_line(line_bytes(command))
        engine.check_invariants()
    return engine.events


def new(order_id, account, side, price, qty, symbol="X", tif=None, post_only=None, **extra):
    command = {"op": "new", "id": order_id, "account": account, "symbol": symbol,
               "side": side, "type": "limit", "price": price, "qty": qty}
    if tif is not None:
        command["tif"] = tif
    if post_only is not None:
        command["post_only"] = post_only
    command.update(extra)
    return command


def market(order_id, account, side, qty, symbol="X", **extra):
    command = {"op": "new", "id": order_id, "account": account, "symbol": symbol,
               "side": side, "type": "market", "qty": qty}
    command.update(extra)
    return command


def cancel(order_id, account, symbol="X"):
    return {"op": "cancel", "id": order_id, "account": account, "symbol": symbol}


def replace(order_id, account, symbol="X", **fields):
    command = {"op": "replace", "id": order_id, "account": account, "symbol": symbol}
    command.update(fields)
    return command


def book(symbol="X"):
    return {"op": "book", "symbol": symbol}


def acc(i):
    return '{"ev":"accepted","id":%d}' % i


def rej(i, reason):
    return '{"ev":"rejected","id":%s,"reason":"%s"}' % ("null" if i is None else i, reason)


def fill(taker, maker, price, qty):
    return '{"ev":"fill","taker":%d,"maker":%d,"price":%d,"qty":%d}' % (taker, maker, price, qty)


def canc(i, qty):
    return '{"ev":"canceled","id":%d,"qty":%d}' % (i, qty)


def repl(i, price, qty):
    return '{"ev":"replaced","id":%d,"price":%d,"qty":%d}' % (i, price, qty)


def bk(bids, asks, symbol="X"):
    return ref.ev_book(symbol, [tuple(level) for level in bids], [tuple(level) for level in asks])


class SpecExample(unittest.TestCase):
    def test_spec_command_examples_in_sequence(self):
        events = run(
            '{"op":"new","id":1,"account":"A1","symbol":"AAPL","side":"buy","type":"limit","tif":"gtc","price":10050,"qty":100}',
            '{"op":"new","id":2,"account":"B7","symbol":"AAPL","side":"sell","type":"market","qty":30}',
            '{"op":"new","id":3,"account":"B7","symbol":"AAPL","side":"sell","type":"limit","tif":"ioc","price":10040,"qty":500}',
            '{"op":"new","id":4,"account":"C2","symbol":"AAPL","side":"buy","type":"limit","tif":"gtc","price":10000,"qty":50,"post_only":true}',
            '{"op":"cancel","id":1,"account":"A1","symbol":"AAPL"}',
            '{"op":"replace","id":4,"account":"C2","symbol":"AAPL","price":10010,"qty":80}',
            '{"op":"book","symbol":"AAPL"}',
        )
        self.assertEqual(events, [
            acc(1),
            acc(2), fill(2, 1, 10050, 30),
            acc(3), fill(3, 1, 10050, 70), canc(3, 430),     # 1 had 70 left
            acc(4),                                           # no asks: rests
            rej(1, "unknown_order"),                          # 1 is filled
            repl(4, 10010, 80),
            '{"ev":"book","symbol":"AAPL","bids":[[10010,80,1]],"asks":[]}',
        ])


class Matching(unittest.TestCase):
    def test_price_time_priority_and_maker_price(self):
        events = run(
            new(1, "A", "sell", 102, 5),
            new(2, "B", "sell", 101, 5),
            new(3, "C", "sell", 101, 5),
            new(4, "A", "sell", 100, 5),
            new(10, "D", "buy", 101, 12),
            book(),
        )
        self.assertEqual(events[4:], [
            acc(10), fill(10, 4, 100, 5), fill(10, 2, 101, 5), fill(10, 3, 101, 2),
            bk([], [[101, 3, 1], [102, 5, 1]]),
        ])

    def test_sell_taker_hits_highest_bid_first(self):
        events = run(
            new(1, "A", "buy", 98, 5),
            new(2, "B", "buy", 99, 5),
            new(3, "C", "sell", 98, 7, tif="ioc"),
        )
        self.assertEqual(events[2:], [acc(3), fill(3, 2, 99, 5), fill(3, 1, 98, 2)])

    def test_gtc_remainder_rests_without_event(self):
        events = run(new(1, "A", "sell", 100, 5), new(2, "B", "buy", 101, 8), book())
        self.assertEqual(events[1:], [acc(2), fill(2, 1, 100, 5), bk([[101, 3, 1]], [])])

    def test_limit_does_not_cross_worse_price(self):
        events = run(new(1, "A", "sell", 100, 5), new(2, "B", "buy", 99, 5), book())
        self.assertEqual(events[1:], [acc(2), bk([[99, 5, 1]], [[100, 5, 1]])])

    def test_market_on_empty_side_is_accepted_then_canceled(self):
        self.assertEqual(run(market(1, "A", "buy", 10)), [acc(1), canc(1, 10)])

    def test_market_remainder_canceled(self):
        events = run(new(1, "A", "sell", 100, 5), new(2, "A", "sell", 1000, 5),
                     market(3, "B", "buy", 12))
        self.assertEqual(events[2:], [acc(3), fill(3, 1, 100, 5), fill(3, 2, 1000, 5), canc(3, 2)])

    def test_market_ignores_price_and_tif(self):
        events = run(new(1, "A", "sell", 100, 5),
                     market(2, "B", "buy", 5, price="x", tif=None),
                     market(3, "B", "buy", 1, price=-5, tif="fok"))
        self.assertEqual(events[1:], [acc(2), fill(2, 1, 100, 5), acc(3), canc(3, 1)])

    def test_ioc_no_cross(self):
        self.assertEqual(run(new(1, "A", "buy", 100, 5, tif="ioc")), [acc(1), canc(1, 5)])

    def test_ioc_exact_fill_has_no_cancel(self):
        events = run(new(1, "A", "sell", 100, 5), new(2, "B", "buy", 100, 5, tif="ioc"), book())
        self.assertEqual(events[1:], [acc(2), fill(2, 1, 100, 5), bk([], [])])

    def test_tif_defaults_to_gtc(self):
        events = run(new(1, "A", "buy", 100, 5), book())
        self.assertEqual(events, [acc(1), bk([[100, 5, 1]], [])])

    def test_symbols_are_separate_books(self):
        events = run(new(1, "A", "sell", 100, 5, symbol="X"),
                     new(2, "B", "buy", 100, 5, symbol="Y"),
                     book("X"), book("Y"), book("Z"))
        self.assertEqual(events, [acc(1), acc(2), bk([], [[100, 5, 1]], "X"),
                                  bk([[100, 5, 1]], [], "Y"), bk([], [], "Z")])


class SelfTradePrevention(unittest.TestCase):
    def test_own_order_first_cancels_whole_incoming(self):
        events = run(new(1, "A", "sell", 100, 10), new(2, "B", "sell", 100, 10),
                     new(3, "A", "buy", 100, 30), book())
        self.assertEqual(events[2:], [acc(3), canc(3, 30), bk([], [[100, 20, 2]])])

    def test_fills_then_stops_at_own_order(self):
        events = run(new(1, "B", "sell", 100, 10), new(2, "A", "sell", 100, 10),
                     new(3, "C", "sell", 99, 5), new(4, "A", "buy", 101, 30), book())
        # 3 (99) then 1 (100, older than 2), then 2 is A's own: cancel 15.
        self.assertEqual(events[3:], [acc(4), fill(4, 3, 99, 5), fill(4, 1, 100, 10), canc(4, 15),
                                      bk([], [[100, 10, 1]])])

    def test_gtc_remainder_after_self_trade_does_not_rest(self):
        events = run(new(1, "A", "sell", 100, 10), new(2, "A", "buy", 100, 4), book())
        self.assertEqual(events[1:], [acc(2), canc(2, 4), bk([], [[100, 10, 1]])])

    def test_own_order_beyond_limit_does_not_matter(self):
        events = run(new(1, "B", "sell", 100, 5), new(2, "A", "sell", 101, 5),
                     new(3, "A", "buy", 100, 8), book())
        # The own order at 101 is not reachable at limit 100: remainder rests.
        self.assertEqual(events[2:], [acc(3), fill(3, 1, 100, 5), bk([[100, 3, 1]], [[101, 5, 1]])])

    def test_market_self_trade(self):
        events = run(new(1, "A", "buy", 100, 10), market(2, "A", "sell", 3))
        self.assertEqual(events[1:], [acc(2), canc(2, 3)])


class FillOrKill(unittest.TestCase):
    def test_unfillable_leaves_book_unchanged(self):
        events = run(new(1, "A", "sell", 100, 5), new(2, "B", "sell", 101, 5),
                     new(3, "C", "buy", 100, 6, tif="fok"), book())
        self.assertEqual(events[2:], [rej(3, "fok_unfillable"), bk([], [[100, 5, 1], [101, 5, 1]])])

    def test_exact_fill_across_levels(self):
        events = run(new(1, "A", "sell", 100, 5), new(2, "B", "sell", 101, 5),
                     new(3, "C", "buy", 101, 10, tif="fok"), book())
        self.assertEqual(events[2:], [acc(3), fill(3, 1, 100, 5), fill(3, 2, 101, 5), bk([], [])])

    def test_rule_16_counts_only_before_own_order(self):
        cmds = [new(1, "B", "sell", 100, 5), new(2, "A", "sell", 100, 5), new(3, "B", "sell", 100, 5)]
        # 15 available in total but own order 2 blocks after 5.
        self.assertEqual(run(*cmds, new(4, "A", "buy", 100, 6, tif="fok"))[3:],
                         [rej(4, "fok_unfillable")])
        self.assertEqual(run(*cmds, new(4, "A", "buy", 100, 5, tif="fok"))[3:],
                         [acc(4), fill(4, 1, 100, 5)])
        # Another account sees all 15.
        self.assertEqual(run(*cmds, new(4, "C", "buy", 100, 15, tif="fok"))[3:],
                         [acc(4), fill(4, 1, 100, 5), fill(4, 2, 100, 5), fill(4, 3, 100, 5)])

    def test_rejected_fok_id_is_reusable(self):
        events = run(new(1, "A", "buy", 100, 5, tif="fok"), new(1, "A", "buy", 100, 5))
        self.assertEqual(events, [rej(1, "fok_unfillable"), acc(1)])

    def test_fok_on_empty_book(self):
        self.assertEqual(run(new(1, "A", "sell", 1, 1, tif="fok")), [rej(1, "fok_unfillable")])


class PostOnly(unittest.TestCase):
    def test_crossing_rejected_even_against_own_order(self):
        events = run(new(1, "A", "sell", 100, 5), new(2, "A", "buy", 100, 5, post_only=True),
                     new(3, "B", "buy", 101, 5, post_only=True), book())
        self.assertEqual(events[1:], [rej(2, "post_only_would_cross"), rej(3, "post_only_would_cross"),
                                      bk([], [[100, 5, 1]])])

    def test_non_crossing_rests(self):
        events = run(new(1, "A", "sell", 100, 5), new(2, "B", "buy", 99, 5, post_only=True), book())
        self.assertEqual(events[1:], [acc(2), bk([[99, 5, 1]], [[100, 5, 1]])])

    def test_post_only_false_is_plain(self):
        events = run(new(1, "A", "sell", 100, 5), new(2, "B", "buy", 100, 5, post_only=False))
        self.assertEqual(events[1:], [acc(2), fill(2, 1, 100, 5)])

    def test_post_only_ioc_and_fok(self):
        events = run(new(1, "A", "sell", 100, 5),
                     new(2, "B", "buy", 99, 5, tif="ioc", post_only=True),
                     new(3, "B", "buy", 99, 5, tif="fok", post_only=True),
                     new(4, "B", "buy", 100, 5, tif="fok", post_only=True))
        self.assertEqual(events[1:], [acc(2), canc(2, 5), rej(3, "fok_unfillable"),
                                      rej(4, "post_only_would_cross")])

    def test_post_only_on_market_is_malformed_but_false_is_fine(self):
        events = run(market(1, "A", "buy", 5, post_only=True), market(2, "A", "buy", 5, post_only=False))
        self.assertEqual(events, [rej(1, "malformed"), acc(2), canc(2, 5)])


class Ids(unittest.TestCase):
    def test_only_accepted_ids_are_used(self):
        events = run(new(1, "A", "buy", 0, 5), new(1, "A", "buy", 100, 0), new(1, "A", "buy", 100, 5),
                     new(1, "B", "buy", 100, 5), cancel(1, "A"), new(1, "A", "buy", 100, 5),
                     market(2, "A", "buy", 1), market(2, "A", "buy", 1))
        self.assertEqual(events, [rej(1, "invalid_price"), rej(1, "invalid_qty"), acc(1),
                                  rej(1, "duplicate_id"), canc(1, 5), rej(1, "duplicate_id"),
                                  acc(2), canc(2, 1), rej(2, "duplicate_id")])

    def test_id_edges(self):
        events = run(new(0, "A", "buy", 100, 1), new(2**64 - 1, "A", "buy", 100, 1),
                     new(2**64, "A", "buy", 100, 1), new(-1, "A", "buy", 100, 1))
        self.assertEqual(events, [acc(0), acc(2**64 - 1), NULL_MALFORMED, NULL_MALFORMED])

    def test_duplicate_id_checked_before_price_and_qty(self):
        events = run(new(1, "A", "buy", 100, 1), new(1, "A", "buy", 0, 0))
        self.assertEqual(events[1:], [rej(1, "duplicate_id")])


class Precedence(unittest.TestCase):
    def test_new_order(self):
        events = run(new(5, "A", "sell", 100, 5),
                     new(1, "A", "buy", 0, 0),                              # price before qty
                     new(2, "A", "buy", -3, 10**40),
                     new(3, "A", "buy", 100, 0, post_only=True),              # qty before post_only
                     new(4, "A", "buy", 100, 0, tif="fok"),                   # qty before fok
                     {**new(6, "A", "buy", 0, 5), "side": "up"})              # malformed first
        self.assertEqual(events[1:], [rej(1, "invalid_price"), rej(2, "invalid_price"),
                                      rej(3, "invalid_qty"), rej(4, "invalid_qty"),
                                      rej(6, "malformed")])

    def test_replace_order(self):
        base = [new(1, "A", "buy", 100, 5, post_only=True), new(2, "B", "sell", 102, 5)]
        self.assertEqual(run(*base, replace(9, "Z", price=0, qty=0))[2:], [rej(9, "unknown_order")])
        self.assertEqual(run(*base, replace(1, "Z", price=0, qty=0))[2:], [rej(1, "not_owner")])
        self.assertEqual(run(*base, replace(1, "A", price=0, qty=0))[2:], [rej(1, "invalid_price")])
        self.assertEqual(run(*base, replace(1, "A", price=102, qty=0))[2:], [rej(1, "invalid_qty")])
        self.assertEqual(run(*base, replace(1, "A", price=102, qty=3))[2:],
                         [rej(1, "post_only_would_cross")])
        self.assertEqual(run(*base, replace(1, "Z", symbol="Y", price=0))[2:], [rej(1, "unknown_order")])
        self.assertEqual(run(*base, replace(1, "A", price="1"))[2:], [rej(1, "malformed")])

    def test_cancel_order(self):
        base = [new(1, "A", "buy", 100, 5)]
        self.assertEqual(run(*base, cancel(1, "B", "Y"))[1:], [rej(1, "unknown_order")])
        self.assertEqual(run(*base, cancel(1, "B"))[1:], [rej(1, "not_owner")])
        self.assertEqual(run(*base, cancel(2, "A"))[1:], [rej(2, "unknown_order")])
        self.assertEqual(run(*base, cancel(1, "A"), cancel(1, "A"))[1:], [canc(1, 5), rej(1, "unknown_order")])


class Cancel(unittest.TestCase):
    def test_cancel_after_partial_fill_reports_leaves(self):
        events = run(new(1, "A", "sell", 100, 10), new(2, "B", "buy", 100, 4), cancel(1, "A"), book())
        self.assertEqual(events[1:], [acc(2), fill(2, 1, 100, 4), canc(1, 6), bk([], [])])

    def test_cancel_ioc_or_rejected_is_unknown(self):
        events = run(new(1, "A", "buy", 100, 5, tif="ioc"), cancel(1, "A"),
                     new(2, "A", "buy", 0, 5), cancel(2, "A"))
        self.assertEqual(events, [acc(1), canc(1, 5), rej(1, "unknown_order"),
                                  rej(2, "invalid_price"), rej(2, "unknown_order")])

    def test_cancel_middle_keeps_others_priority(self):
        events = run(new(1, "A", "sell", 100, 1), new(2, "B", "sell", 100, 1), new(3, "C", "sell", 100, 1),
                     cancel(2, "B"), new(4, "D", "buy", 100, 2, tif="ioc"))
        self.assertEqual(events[3:], [canc(2, 1), acc(4), fill(4, 1, 100, 1), fill(4, 3, 100, 1)])


class Replace(unittest.TestCase):
    def three_makers(self):
        return [new(1, "A", "sell", 100, 5), new(2, "B", "sell", 100, 5), new(3, "C", "sell", 100, 5)]

    def sweep(self, order_id, qty=100):
        return new(order_id, "Z", "buy", 100, qty, tif="ioc")

    def test_qty_decrease_keeps_priority(self):
        events = run(*self.three_makers(), replace(1, "A", qty=2), self.sweep(9, 4))
        self.assertEqual(events[3:], [repl(1, 100, 2), acc(9), fill(9, 1, 100, 2), fill(9, 2, 100, 2)])

    def test_qty_increase_loses_priority(self):
        events = run(*self.three_makers(), replace(1, "A", qty=6), self.sweep(9))
        self.assertEqual(events[3:], [repl(1, 100, 6), acc(9), fill(9, 2, 100, 5), fill(9, 3, 100, 5),
                                      fill(9, 1, 100, 6), canc(9, 84)])

    def test_equal_is_noop_that_answers_and_keeps_priority(self):
        events = run(*self.three_makers(), replace(1, "A", qty=5, price=100), replace(1, "A", price=100),
                     replace(1, "A", qty=5), self.sweep(9, 5))
        self.assertEqual(events[3:], [repl(1, 100, 5), repl(1, 100, 5), repl(1, 100, 5),
                                      acc(9), fill(9, 1, 100, 5)])

    def test_qty_is_compared_with_open_qty(self):
        # 1 is partially filled to 2 open; replace to 4 (< original 5) is an increase.
        events = run(*self.three_makers(), self.sweep(8, 3), replace(1, "A", qty=4), self.sweep(9, 5))
        self.assertEqual(events[3:], [acc(8), fill(8, 1, 100, 3), repl(1, 100, 4),
                                      acc(9), fill(9, 2, 100, 5)])

    def test_price_change_loses_priority_even_with_lower_qty(self):
        events = run(*self.three_makers(), replace(1, "A", price=101, qty=1), replace(1, "A", price=100),
                     self.sweep(9, 11), book())
        self.assertEqual(events[3:], [repl(1, 101, 1), repl(1, 100, 1), acc(9), fill(9, 2, 100, 5),
                                      fill(9, 3, 100, 5), fill(9, 1, 100, 1), bk([], [])])

    def test_crossing_replace_trades_after_replaced(self):
        events = run(new(1, "A", "sell", 101, 5), new(2, "B", "sell", 102, 5),
                     new(3, "C", "buy", 99, 8), replace(3, "C", price=102), book())
        self.assertEqual(events[3:], [repl(3, 102, 8), fill(3, 1, 101, 5), fill(3, 2, 102, 3),
                                      bk([], [[102, 2, 1]])])

    def test_crossing_replace_remainder_rests_at_new_price(self):
        events = run(new(1, "A", "sell", 101, 5), new(3, "C", "buy", 99, 8),
                     replace(3, "C", price=101, qty=9), book())
        self.assertEqual(events[2:], [repl(3, 101, 9), fill(3, 1, 101, 5), bk([[101, 4, 1]], [])])

    def test_crossing_replace_self_trade_cancels_remainder(self):
        events = run(new(1, "B", "sell", 101, 5), new(2, "C", "sell", 101, 5),
                     new(3, "C", "buy", 99, 8), replace(3, "C", price=101), book(), cancel(3, "C"))
        self.assertEqual(events[3:], [repl(3, 101, 8), fill(3, 1, 101, 5), canc(3, 3),
                                      bk([], [[101, 5, 1]]), rej(3, "unknown_order")])

    def test_replace_fully_filled_order_then_unknown(self):
        events = run(new(1, "A", "sell", 100, 5), new(2, "B", "buy", 99, 5), replace(2, "B", price=100),
                     replace(2, "B", qty=1))
        self.assertEqual(events[2:], [repl(2, 100, 5), fill(2, 1, 100, 5), rej(2, "unknown_order")])

    def test_replace_of_ioc_fok_market_is_unknown(self):
        events = run(new(1, "A", "sell", 100, 50), new(2, "B", "buy", 100, 5, tif="ioc"),
                     new(3, "B", "buy", 100, 5, tif="fok"), market(4, "B", "buy", 5),
                     replace(2, "B", qty=1), replace(3, "B", qty=1), replace(4, "B", qty=1))
        self.assertEqual(events[-3:], [rej(2, "unknown_order"), rej(3, "unknown_order"),
                                       rej(4, "unknown_order")])

    def test_post_only_flag_stays(self):
        events = run(new(1, "A", "buy", 99, 5, post_only=True), new(2, "B", "sell", 101, 5),
                     replace(1, "A", price=101), replace(1, "A", price=100, qty=7), book())
        self.assertEqual(events[2:], [rej(1, "post_only_would_cross"), repl(1, 100, 7),
                                      bk([[100, 7, 1]], [[101, 5, 1]])])

    def test_post_only_replace_crossing_own_order_rejected(self):
        events = run(new(1, "A", "buy", 99, 5, post_only=True), new(2, "A", "sell", 101, 5),
                     replace(1, "A", price=102))
        self.assertEqual(events[2:], [rej(1, "post_only_would_cross")])

    def test_replace_malformed_forms(self):
        base = [new(1, "A", "buy", 99, 5)]
        for bad in (replace(1, "A"), replace(1, "A", price=None), replace(1, "A", qty=None),
                    replace(1, "A", qty=5.0), replace(1, "A", price=True), replace(1, "A", qty="5"),
                    {"op": "replace", "id": 1, "account": "A", "qty": 5},
                    {"op": "replace", "id": 1, "symbol": "X", "qty": 5}):
            self.assertEqual(run(*base, bad)[1:], [rej(1, "malformed")], bad)

    def test_replace_negative_and_huge(self):
        base = [new(1, "A", "buy", 99, 5)]
        self.assertEqual(run(*base, replace(1, "A", qty=-1))[1:], [rej(1, "invalid_qty")])
        self.assertEqual(run(*base, replace(1, "A", qty=2**63))[1:], [rej(1, "invalid_qty")])
        self.assertEqual(run(*base, replace(1, "A", price=2**63))[1:], [rej(1, "invalid_price")])
        self.assertEqual(run(*base, replace(1, "A", price=-(10**50)))[1:], [rej(1, "invalid_price")])


class Malformed(unittest.TestCase):
    def assertMalformed(self, line, order_id=None):
        self.assertEqual(run(line), [rej(order_id, "malformed")], line)

    def test_not_json_or_not_object(self):
        for line in ('{', '{"op":"book","symbol":"X"', '{"op":"book","symbol":"X"} x',
                     '{"op":"book","symbol":"X"}{}', '[]', '[{"op":"book","symbol":"X"}]', '"x"',
                     '1', 'null', 'true', "{'op':'book'}", '{"op":"book","symbol":"X",}',
                     '{op:"book"}', '\ufeff{"op":"book","symbol":"X"}', 'nul'):
            self.assertMalformed(line)

    def test_id_not_reported_when_line_is_not_json(self):
        self.assertMalformed('{"op":"new","id":5,"qty":NaN}')
        self.assertMalformed('{"op":"new","id":5,"qty":Infinity}')
        self.assertMalformed('{"op":"new","id":5,"qty":-Infinity}')
        self.assertMalformed('{"op":"new","id":5,"qty":1} trailing')
        self.assertMalformed('{"op":"new","id":5,"account":"a\tb"}')  # raw control char
        self.assertMalformed('{"op":"new","id":5,"qty":01}')
        self.assertMalformed('{"op":"new","id":5,"qty":+1}')
        self.assertMalformed('{"op":"new","id":5,"qty":.5}')

    def test_invalid_utf8(self):
        for junk in (b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf4\x90\x80\x80"):
            self.assertEqual(run(b'{"op":"book","id":5,"symbol":"A' + junk + b'"}'), [NULL_MALFORMED])

    def test_lone_surrogate_escape(self):
        self.assertMalformed('{"op":"book","id":5,"symbol":"\\ud800"}')
        self.assertMalformed('{"op":"book","id":5,"symbol":"X","x":"\\udc00\\ud800"}')
        # a proper pair is fine and is written raw
        self.assertEqual(run('{"op":"book","symbol":"\\ud83d\\ude00"}'),
                         ['{"ev":"book","symbol":"\U0001f600","bids":[],"asks":[]}'])

    def test_deep_nesting(self):
        ok = '{"op":"book","symbol":"X","x":' + "[" * 63 + "]" * 63 + "}"     # 64 levels
        bad = '{"op":"book","symbol":"X","x":' + "[" * 64 + "]" * 64 + "}"    # 65 levels
        self.assertEqual(run(ok), [bk([], [])])
        self.assertMalformed(bad)
        self.assertMalformed('{"op":"book","symbol":"X","x":' + "[" * 5000 + "]" * 5000 + "}")
        # brackets inside strings do not count
        self.assertEqual(run('{"op":"book","symbol":"X","x":"' + "[" * 100 + '"}'), [bk([], [])])
        self.assertEqual(run('{"op":"book","symbol":"X","x":"\\"' + "{" * 100 + '"}'), [bk([], [])])

    def test_line_length_limit(self):
        base = '{"op":"book","symbol":"X","pad":"'
        fill_to = lambda n: base + "a" * (n - len(base) - 2) + '"}'
        self.assertEqual(run(fill_to(ref.MAX_LINE_BYTES)), [bk([], [])])
        self.assertMalformed(fill_to(ref.MAX_LINE_BYTES + 1))
        self.assertMalformed(" " * (ref.MAX_LINE_BYTES + 1))
        # the \n terminator is not part of the line
        self.assertEqual(run((fill_to(ref.MAX_LINE_BYTES) + "\n").encode()), [bk([], [])])

    def test_blank_and_whitespace_lines_skipped(self):
        self.assertEqual(run(b"", b"\n", b"   \n", b"\t\r\n", b"\r", b" \t \r"), [])

    def test_non_json_whitespace_is_not_blank(self):
        self.assertMalformed("\x0c")
        self.assertMalformed("\x0b")
        self.assertMalformed("\u00a0")

    def test_crlf_and_padding(self):
        self.assertEqual(run(b' \t{"op":"book","symbol":"X"}\t \r\n'), [bk([], [])])

    def test_id_reporting_on_object_lines(self):
        good = new(7, "A", "buy", 100, 5)
        cases = [
            ({**good, "side": "BUY"}, 7),
            ({**good, "id": "7"}, None),
            ({**good, "id": 7.0}, None),
            ({**good, "id": True}, None),
            ({**good, "id": -7}, None),
            ({**good, "id": 2**64}, None),
            ({**good, "id": None}, None),
            ({k: v for k, v in good.items() if k != "id"}, None),
            ({**good, "op": "modify"}, 7),
            ({**good, "op": None}, 7),
            ({**good, "op": 1}, 7),
            ({k: v for k, v in good.items() if k != "op"}, 7),
            ({"op": "book", "id": 2**64 - 1}, 2**64 - 1),
            ({"op": "book", "id": 3, "symbol": None}, 3),
            ({"op": "book", "id": "3", "symbol": 5}, None),
            ({"op": "cancel", "id": 4, "account": "A"}, 4),
        ]
        for command, order_id in cases:
            self.assertMalformed(json.dumps(command), order_id)

    def test_field_types(self):
        good = new(7, "A", "buy", 100, 5)
        bad = [
            {**good, "price": "100"}, {**good, "price": 100.0}, {**good, "qty": 5.0},
            {**good, "qty": "5"}, {**good, "qty": True}, {**good, "price": None},
            {**good, "qty": None}, {**good, "price": [100]}, {**good, "qty": {"v": 5}},
            {**good, "account": 1}, {**good, "account": None}, {**good, "symbol": ["X"]},
            {**good, "side": None}, {**good, "side": "Buy"}, {**good, "type": "stop"},
            {**good, "type": None}, {**good, "tif": "day"}, {**good, "tif": None},
            {**good, "tif": "GTC"}, {**good, "post_only": "true"}, {**good, "post_only": 1},
            {**good, "post_only": None},
        ]
        for key in ("account", "symbol", "side", "type", "price", "qty"):
            bad.append({k: v for k, v in good.items() if k != key})
        for command in bad:
            self.assertMalformed(json.dumps(command), 7)
        self.assertMalformed('{"op":"new","id":7,"account":"A","symbol":"X","side":"buy",'
                             '"type":"limit","price":1e2,"qty":5}', 7)
        self.assertMalformed('{"op":"new","id":7,"account":"A","symbol":"X","side":"buy",'
                             '"type":"limit","price":100,"qty":5E0}', 7)

    def test_market_needs_no_price(self):
        self.assertEqual(run(market(1, "A", "buy", 1)), [acc(1), canc(1, 1)])
        self.assertMalformed(json.dumps({**market(1, "A", "buy", 1), "qty": 1.5}), 1)
        self.assertMalformed(json.dumps({k: v for k, v in market(1, "A", "buy", 1).items()
                                         if k != "qty"}), 1)

    def test_book_and_cancel_need_fields(self):
        self.assertMalformed('{"op":"book"}')
        self.assertMalformed('{"op":"book","symbol":1}')
        self.assertMalformed('{"op":"cancel","id":1,"symbol":"X"}', 1)
        self.assertMalformed('{"op":"cancel","id":1,"account":"A","symbol":"X","x":1,"symbol":null}', 1)


class Tolerated(unittest.TestCase):
    def test_unknown_fields_ignored_whatever_their_type(self):
        events = run('{"op":"new","id":1,"account":"A","symbol":"X","side":"buy","type":"limit",'
                     '"price":100,"qty":5,"ts":"soon","note":{"a":[1.5,null,NaN_is_not_here]}}')
        self.assertEqual(events, [NULL_MALFORMED])     # (invalid JSON: bare word)
        events = run('{"op":"new","id":1,"account":"A","symbol":"X","side":"buy","type":"limit",'
                     '"price":100,"qty":5,"ts":"soon","note":{"a":[1.5,null,true,1e999]}}')
        self.assertEqual(events, [acc(1)])

    def test_duplicate_keys_last_wins(self):
        events = run('{"op":"new","id":"x","id":1,"qty":"junk","account":"A","symbol":"X",'
                     '"side":"buy","type":"limit","price":100,"qty":5,"side":"sell"}', book())
        self.assertEqual(events, [acc(1), bk([], [[100, 5, 1]])])
        self.assertEqual(run('{"op":"book","symbol":"X","symbol":null}'), [NULL_MALFORMED])

    def test_book_ignores_id(self):
        self.assertEqual(run('{"op":"book","symbol":"X","id":"x"}', '{"op":"book","symbol":"X","id":1.5}'),
                         [bk([], []), bk([], [])])

    def test_strings_compared_after_unescaping(self):
        events = run('{"op":"new","id":1,"account":"\\u00c5","symbol":"\\u00c4","side":"buy",'
                     '"type":"limit","price":100,"qty":5}',
                     '{"op":"cancel","id":1,"account":"\u00c5","symbol":"\u00c4"}')
        self.assertEqual(events, [acc(1), canc(1, 5)])

    def test_strings_are_case_and_space_sensitive(self):
        events = run(new(1, "A", "buy", 100, 5), cancel(1, "a"), cancel(1, "A "), cancel(1, "A", "x"))
        self.assertEqual(events[1:], [rej(1, "not_owner"), rej(1, "not_owner"), rej(1, "unknown_order")])

    def test_empty_strings_are_valid(self):
        events = run(new(1, "", "buy", 100, 5, symbol=""), book(""), cancel(1, "", ""))
        self.assertEqual(events, [acc(1), '{"ev":"book","symbol":"","bids":[[100,5,1]],"asks":[]}',
                                  canc(1, 5)])


class Limits(unittest.TestCase):
    def test_price_range(self):
        events = run(new(1, "A", "sell", 2**63 - 1, 1), new(2, "A", "sell", 2**63, 1),
                     new(3, "A", "sell", 10**100, 1), new(4, "A", "sell", -(10**100), 1),
                     new(5, "A", "buy", 1, 1), book())
        self.assertEqual(events, [acc(1), rej(2, "invalid_price"), rej(3, "invalid_price"),
                                  rej(4, "invalid_price"), acc(5),
                                  bk([[1, 1, 1]], [[2**63 - 1, 1, 1]])])

    def test_qty_ceiling(self):
        ceiling = (2**63 - 1) // 1_000_000
        self.assertEqual(ceiling, 9_223_372_036_854)
        events = run(new(1, "A", "sell", 100, ceiling), new(2, "B", "sell", 100, ceiling + 1),
                     new(3, "B", "sell", 100, 2**63), new(4, "B", "sell", 100, -(2**63) - 1),
                     new(5, "C", "sell", 100, ceiling), book())
        self.assertEqual(events, [acc(1), rej(2, "invalid_qty"), rej(3, "invalid_qty"),
                                  rej(4, "invalid_qty"), acc(5), bk([], [[100, 2 * ceiling, 2]])])

    def test_very_long_numbers(self):
        digits = "9" * 5000           # beyond Python's default int-string limit
        line = ('{"op":"new","id":1,"account":"A","symbol":"X","side":"buy","type":"limit",'
                '"price":%s,"qty":%s}')
        self.assertEqual(run(line % (digits, 5)), [rej(1, "invalid_price")])
        self.assertEqual(run(line % (100, "-" + digits)), [rej(1, "invalid_qty")])
        self.assertEqual(run(line.replace('"id":1', '"id":' + digits) % (100, 5)), [NULL_MALFORMED])
        self.assertEqual(run(line % ("1" + "0" * 500000, 5)), [rej(1, "invalid_price")])

    def test_capacity(self):
        engine = ref.Engine(order_capacity=2)
        events = run(new(1, "A", "buy", 100, 1), new(2, "A", "buy", 100, 1),
                     new(3, "A", "buy", 100, 1),                       # no slot
                     new(4, "B", "sell", 100, 1, tif="ioc"),           # needs no slot
                     new(5, "A", "buy", 100, 1),                       # 4 freed one
                     new(6, "A", "buy", 100, (2**63 - 1) // 2 + 1),     # over the ceiling
                     new(7, "A", "buy", 100, 1, tif="fok"),
                     engine=engine)
        self.assertEqual(events, [acc(1), acc(2), rej(3, "capacity_exhausted"), acc(4),
                                  fill(4, 1, 100, 1), acc(5), rej(6, "invalid_qty"),
                                  rej(7, "fok_unfillable")])


class OutputFormat(unittest.TestCase):
    def test_string_escaping(self):
        symbol = 'q"b\\s/\n\r\t\b\f\x00\x01\x1f\x7fé€\U0001f600\u2028'
        expected = ('"q\\"b\\\\s/\\n\\r\\t\\b\\f\\u0000\\u0001\\u001f\x7fé€\U0001f600\u2028"')
        self.assertEqual(ref.json_string(symbol), expected)
        events = run(json.dumps(book(symbol)))
        self.assertEqual(events, ['{"ev":"book","symbol":%s,"bids":[],"asks":[]}' % expected])

    def test_command_line_bytes(self):
        stdin = (b'{"op":"new","id":1,"account":"A","symbol":"\xc3\x84\\u0001","side":"sell",'
                 b'"type":"limit","price":100,"qty":5}\r\n'
                 b'\n'
                 b'garbage\n'
                 b'{"op":"book","symbol":"\xc3\x84\\u0001"}')            # no final newline
        result = subprocess.run([sys.executable, os.path.join(HERE, "replay_reference.py"), "--book-hash"],
                                input=stdin, capture_output=True, check=True)
        self.assertEqual(result.stdout,
                         b'{"ev":"accepted","id":1}\n'
                         b'{"ev":"rejected","id":null,"reason":"malformed"}\n'
                         b'{"ev":"book","symbol":"\xc3\x84\\u0001","bids":[],"asks":[[100,5,1]]}\n')
        self.assertEqual(json.loads(result.stderr),
                         {"\u00c4\u0001": {"bids": [], "asks": [[100, [[1, "A", 5]]]]}})

    def test_final_state(self):
        engine = ref.Engine()
        run(new(1, "A", "buy", 99, 5, symbol="b"), new(2, "B", "buy", 99, 6, symbol="b"),
            new(3, "A", "buy", 100, 1, symbol="b"), new(4, "A", "sell", 105, 2, symbol="a"),
            new(5, "A", "sell", 1, 2, symbol="c"), market(6, "B", "buy", 2, symbol="c"),
            engine=engine)
        self.assertEqual(json.dumps(engine.final_state(), separators=(",", ":")),
                         '{"a":{"bids":[],"asks":[[105,[[4,"A",2]]]]},'
                         '"b":{"bids":[[100,[[3,"A",1]]],[99,[[1,"A",5],[2,"B",6]]]],"asks":[]}}')


class RandomStreams(unittest.TestCase):
    def test_generator_is_deterministic_and_counts_lines(self):
        a = list(gen_stream.generate(42, 3000, symbols=2, accounts=3, malformed_rate=0.1))
        b = list(gen_stream.generate(42, 3000, symbols=2, accounts=3, malformed_rate=0.1))
        c = list(gen_stream.generate(43, 3000, symbols=2, accounts=3, malformed_rate=0.1))
        self.assertEqual(a, b)
        self.assertNotEqual(a, c)
        self.assertEqual(len(a), 3000)
        self.assertTrue(all(line.endswith(b"\n") and line.count(b"\n") == 1 for line in a))

    def test_generator_mix_reaches_every_outcome(self):
        engine = ref.Engine()
        for line in gen_stream.generate(7, 20000, malformed_rate=0.05):
            engine.process_line(line)
        kinds = set()
        for event in engine.events:
            decoded = json.loads(event)
            kinds.add(decoded["ev"] + ":" + decoded.get("reason", ""))
        for reason in ("duplicate_id", "unknown_order", "not_owner", "invalid_price", "invalid_qty",
                       "post_only_would_cross", "fok_unfillable", "malformed"):
            self.assertIn("rejected:" + reason, kinds)
        for ev in ("accepted", "fill", "canceled", "replaced", "book"):
            self.assertIn(ev + ":", kinds)

    def test_events_are_consistent_on_random_streams(self):
        """Checks each command's events against an event-level model of open
        quantities, and the book invariants after every command."""
        for seed in (1, 2, 3):
            engine = ref.Engine()
            leaves = {}         # id -> open qty, maintained from events only
            owner = {}          # id -> (account, price, side) of the resting order
            for line in gen_stream.generate(seed, 6000, symbols=2, accounts=3, malformed_rate=0.05):
                start = len(engine.events)
                engine.process_line(line)
                engine.check_invariants()
                events = [json.loads(e) for e in engine.events[start:]]
                obj = ref.parse_line(line.strip(ref.JSON_WHITESPACE)) if line.strip(ref.JSON_WHITESPACE) else None
                self.check_command(obj, events, leaves, owner)
                # The model's resting set equals the engine's.
                self.assertEqual({i: q for i, q in leaves.items()},
                                 {i: o["qty"] for i, o in engine.resting.items()})

    def check_command(self, obj, events, leaves, owner):
        if not events:
            return
        first = events[0]
        if first["ev"] == "rejected":
            self.assertEqual(len(events), 1)
            return
        op = obj["op"]
        if op == "book":
            self.assertEqual([e["ev"] for e in events], ["book"])
            return
        if op == "cancel":
            self.assertEqual(len(events), 1)
            self.assertEqual(first, {"ev": "canceled", "id": obj["id"], "qty": leaves.pop(obj["id"])})
            owner.pop(obj["id"])
            return
        order_id = obj["id"]
        account = obj["account"]
        if op == "new":
            self.assertEqual(first, {"ev": "accepted", "id": order_id})
            side, qty = obj["side"], obj["qty"]
            limit = obj["price"] if obj["type"] == "limit" else None
            tif = obj.get("tif", "gtc") if obj["type"] == "limit" else "market"
        else:
            self.assertEqual(first["ev"], "replaced")
            self.assertEqual(first["id"], order_id)
            old = leaves[order_id]
            old_price = owner[order_id][1]
            side = owner[order_id][2]
            qty = first["qty"]
            limit = first["price"]
            tif = "gtc"
            if obj.get("qty") is not None:
                self.assertEqual(qty, obj["qty"])
            if obj.get("price") is not None:
                self.assertEqual(limit, obj["price"])
            self.assertLessEqual(1, qty)
            del leaves[order_id]
            owner.pop(order_id)
        remaining = qty
        last_price = None
        rest = events[1:]
        for event in rest:
            if event["ev"] != "fill":
                break
            self.assertEqual(event["taker"], order_id)
            maker = event["maker"]
            self.assertNotEqual(owner[maker][0], account)            # no self-trade
            self.assertEqual(owner[maker][1], event["price"])         # maker's price
            self.assertGreater(event["qty"], 0)
            self.assertLessEqual(event["qty"], leaves[maker])
            if limit is not None:
                if side == "buy":
                    self.assertLessEqual(event["price"], limit)
                else:
                    self.assertGreaterEqual(event["price"], limit)
            if last_price is not None:
                if side == "buy":
                    self.assertGreaterEqual(event["price"], last_price)
                else:
                    self.assertLessEqual(event["price"], last_price)
            last_price = event["price"]
            leaves[maker] -= event["qty"]
            if leaves[maker] == 0:
                del leaves[maker]
                del owner[maker]
            remaining -= event["qty"]
        self.assertGreaterEqual(remaining, 0)
        tail = [e for e in rest if e["ev"] != "fill"]
        if tail:
            self.assertEqual(tail, [{"ev": "canceled", "id": order_id, "qty": remaining}])
            self.assertNotEqual(tif, "fok")
        elif remaining > 0:
            self.assertEqual(tif, "gtc")                               # rests
            leaves[order_id] = remaining
            owner[order_id] = (account, limit, side)
        if op == "new" and obj.get("post_only") is True:
            self.assertEqual(len(rest) - len(tail), 0)                  # post-only never takes
        if op == "replace" and limit == old_price and qty <= old:
            self.assertEqual(rest, [])                                 # keeps its place


if __name__ == "__main__":
    unittest.main()
