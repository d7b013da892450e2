"""FIX 4.4 application layer of the Chronos gateway: orders, fills, cancels,
replaces, rejects and accounts, as the gateway's contract describes them.
Every test runs against a fresh gateway. TW has account 1; TW2 (password) has 2 and 3."""

import re
import unittest
from decimal import Decimal as D

from gatewaycase import PRESENT, GatewayTestCase
from harness import FixClient


class NewOrders(GatewayTestCase):
    def test_limit_order_is_acknowledged_with_all_fields(self):
        tw = self.client("TW")
        tw.new_order("A1", side="1", qty=100, price="150.25")
        msg = self.ack(tw, "A1")
        self.check(msg, {55: "AAPL", 54: "1", 38: D(100), 40: "2", 44: D("150.25"), 150: "0", 39: "0",
                         151: D(100), 14: D(0), 6: D(0), 1: "1"}, "New")

    def test_sell_gtc_on_second_symbol_rests(self):
        tw = self.client("TW")
        tw.new_order("S1", side="2", qty=7, price="310.10", symbol="MSFT", tif="1")
        msg = self.ack(tw, "S1")
        self.check(msg, {55: "MSFT", 54: "2", 38: D(7), 44: D("310.10"), 151: D(7)}, "New")

    def test_order_ids_and_exec_ids_are_distinct(self):
        tw = self.client("TW")
        acks = []
        for i in range(5):
            tw.new_order(f"U{i}", price=f"150.{10 + i}")
            acks.append(self.ack(tw, f"U{i}"))
        self.assertEqual(len({m[37] for m in acks}), 5, "OrderIDs must differ")
        self.assertEqual(len({m[17] for m in acks}), 5, "ExecIDs must differ")

    def test_price_off_the_tick_is_rejected_not_rounded(self):
        tw = self.client("TW")
        tw.new_order("P1", price="150.255")
        msg = tw.recv()
        self.check(msg, {35: "8", 11: "P1", 150: "8", 39: "8", 103: PRESENT,
                         58: re.compile(r".*invalid_price.*", re.S)}, "reject of an off-tick price")

    def test_unknown_symbol_is_rejected(self):
        tw = self.client("TW")
        tw.new_order("Z1", symbol="ZZZZ")
        msg = tw.recv()
        self.check(msg, {35: "8", 11: "Z1", 150: "8", 39: "8", 103: "1",
                         58: re.compile(r".*unknown_symbol.*", re.S)}, "reject of an unknown symbol")

    def test_duplicate_clordid_is_rejected_and_first_order_stays(self):
        tw = self.client("TW")
        tw.new_order("DUP", price="150.25")
        self.ack(tw, "DUP")
        tw.new_order("DUP", price="150.20")
        msg = tw.recv()
        self.check(msg, {35: "8", 11: "DUP", 150: "8", 39: "8", 103: "6"}, "reject of a reused ClOrdID")
        tw.cancel("DUP-C", "DUP")
        msg = tw.recv()
        self.check(msg, {35: "8", 150: "4", 39: "4", 11: "DUP-C", 41: "DUP", 44: D("150.25")},
                   "the first order is still there and can be canceled")

    def test_account_not_permitted_is_rejected(self):
        tw = self.client("TW")
        tw.new_order("AC1", account=2)
        msg = tw.recv()
        self.check(msg, {35: "8", 11: "AC1", 150: "8", 39: "8", 103: "15"}, "account 2 is not TW's")

    def test_second_session_accounts(self):
        tw2 = self.client("TW2")
        tw2.new_order("B-DEFAULT")
        self.check(self.ack(tw2, "B-DEFAULT"), {1: "2"}, "tag 1 absent: the first account")
        tw2.new_order("B-THREE", account=3)
        self.check(self.ack(tw2, "B-THREE"), {1: "3"}, "account 3 is TW2's")
        tw2.new_order("B-ONE", account=1)
        msg = tw2.recv()
        self.check(msg, {35: "8", 11: "B-ONE", 150: "8", 39: "8", 103: "15"}, "account 1 is not TW2's")

    def test_price_with_trailing_zeros_is_on_the_tick(self):
        tw = self.client("TW")
        tw.new_order("PX1", price="150.250")
        self.check(self.ack(tw, "PX1"), {44: D("150.25")}, "150.250 is 15025 price units")
        tw.new_order("PX2", price="150.2")
        self.check(self.ack(tw, "PX2"), {44: D("150.20")}, "150.2 is 15020 price units")

    def test_limit_order_without_price_creates_no_order(self):
        tw = self.client("TW")
        tw.send("D", [(11, "NOPX"), (55, "AAPL"), (54, "1"), (60, "20240102-10:00:00"), (38, 100), (40, "2")],
                sending_time=None)
        msg = tw.recv()
        if msg.msgtype == "3":
            self.check(msg, {45: "2", 372: "D"}, "session Reject of a limit order without Price")
        else:
            self.check(msg, {35: "8", 11: "NOPX", 150: "8", 39: "8"}, "reject of a limit order without Price")

    def test_clordid_reused_after_cancel_is_rejected(self):
        tw = self.client("TW")
        tw.new_order("ONCE")
        self.ack(tw, "ONCE")
        tw.cancel("ONCE-C", "ONCE")
        self.check(tw.recv(), {35: "8", 150: "4", 11: "ONCE-C"}, "Canceled")
        tw.new_order("ONCE")
        self.check(tw.recv(), {35: "8", 11: "ONCE", 150: "8", 39: "8", 103: "6"}, "ClOrdID reused after cancel")

    def test_same_clordid_in_two_sessions_is_two_orders(self):
        tw, tw2 = self.client("TW"), self.client("TW2")
        tw.new_order("SAME", side="2", price="150.30")
        tw_order = self.ack(tw, "SAME")[37]
        tw2.new_order("SAME", side="1", price="150.20")
        tw2_order = self.ack(tw2, "SAME", "ClOrdIDs are per session")[37]
        self.assertNotEqual(tw_order, tw2_order)
        tw.cancel("SAME-C", "SAME", side="2")
        self.check(tw.recv(), {35: "8", 150: "4", 41: "SAME", 37: tw_order, 54: "2"}, "TW cancels its own SAME")
        tw2.expect_silence(0.3)
        tw2.cancel("SAME-C", "SAME", side="1")
        self.check(tw2.recv(), {35: "8", 150: "4", 41: "SAME", 37: tw2_order}, "TW2 cancels its own SAME")

    def test_long_clordid_is_echoed_unchanged_or_rejected(self):
        tw = self.client("TW")
        clordid = "L" + "0123456789abcdefghijklmnopqrstuvwxyz" * 3
        tw.new_order(clordid)
        msg = tw.recv()
        self.check(msg, {35: "8", 11: clordid}, "a long ClOrdID must come back unchanged")
        self.assertIn(msg.get(150), ("0", "8"), msg.text())

    def test_quantity_with_leading_zeros_and_decimals(self):
        tw = self.client("TW")
        tw.new_order("Q1", qty="002000.00")
        msg = self.ack(tw, "Q1")
        self.check(msg, {38: D(2000), 151: D(2000)}, "OrderQty 002000.00 is 2000")

    def test_limits_of_the_symbol(self):
        tw = self.client("TW")
        cases = [("L-QTY0", {"qty": 0}), ("L-QTYMAX", {"qty": 1000001}), ("L-PX0", {"price": "0.00"}),
                 ("L-PXMAX", {"price": "1000000.01"})]
        for clordid, args in cases:
            tw.new_order(clordid, **args)
            msg = tw.recv()
            self.check(msg, {35: "8", 11: clordid, 150: "8", 39: "8"}, f"{clordid}: outside the symbol's limits")

    def test_post_only_that_would_cross_is_rejected(self):
        tw, tw2 = self.client("TW"), self.client("TW2")
        tw.new_order("PO-S", side="2", price="150.25")
        self.ack(tw, "PO-S")
        tw2.new_order("PO-B", side="1", price="150.25", execinst="6")
        msg = tw2.recv()
        self.check(msg, {35: "8", 11: "PO-B", 150: "8", 39: "8",
                         58: re.compile(r".*post_only_would_cross.*", re.S)}, "post-only that would trade")
        tw.expect_silence(0.5)

    def test_post_only_that_does_not_cross_rests(self):
        tw, tw2 = self.client("TW"), self.client("TW2")
        tw.new_order("PO-S", side="2", price="150.25")
        self.ack(tw, "PO-S")
        tw2.new_order("PO-B", side="1", price="150.24", execinst="6")
        self.ack(tw2, "PO-B")


class Trades(GatewayTestCase):
    def test_cross_between_two_sessions_reports_to_both(self):
        tw, tw2 = self.client("TW"), self.client("TW2")
        tw.new_order("S1", side="2", qty=100, price="150.25")
        order_id = self.ack(tw, "S1")[37]
        tw2.new_order("B1", side="1", qty=100, price="150.25")
        sell = self.fill(tw, "S1", "2", 100, "150.25", 100, 0, "150.25", what="resting sell, TW")
        self.check(sell, {37: order_id, 54: "2", 55: "AAPL", 1: "1"}, "resting sell, TW")
        buy = self.fill(tw2, "B1", "2", 100, "150.25", 100, 0, "150.25", allow_new=True, what="aggressive buy, TW2")
        self.check(buy, {54: "1", 55: "AAPL", 1: "2"}, "aggressive buy, TW2")
        tw.expect_silence(0.3)
        tw2.expect_silence(0.3)

    def test_price_then_time_priority(self):
        tw, tw2 = self.client("TW"), self.client("TW2")
        tw.new_order("S-HIGH", side="2", qty=10, price="150.30")
        self.ack(tw, "S-HIGH")
        tw.new_order("S-FIRST", side="2", qty=10, price="150.25")
        self.ack(tw, "S-FIRST")
        tw.new_order("S-SECOND", side="2", qty=10, price="150.25")
        self.ack(tw, "S-SECOND")
        tw2.new_order("B1", side="1", qty=10, price="150.30")
        self.fill(tw, "S-FIRST", "2", 10, "150.25", 10, 0, what="best price first, then the earliest order")
        self.fill(tw2, "B1", "2", 10, "150.25", 10, 0, allow_new=True)
        tw2.new_order("B2", side="1", qty=10, price="150.30")
        self.fill(tw, "S-SECOND", "2", 10, "150.25", 10, 0, what="then the later order at that price")

    def test_fill_while_logged_out_is_delivered_after_logon(self):
        tw, tw2 = self.client("TW"), self.client("TW2")
        tw.new_order("S1", side="2", qty=10, price="150.25")
        self.ack(tw, "S1")
        tw.logout()  # our 3, its 3
        tw2.new_order("B1", side="1", qty=10, price="150.25")
        msg = self.report(tw2, "B1", allow_new=True)
        if msg.get(150) != "F":
            self.skipTest(f"the resting order did not trade while its session was away: {msg.text()}")
        tw = FixClient(self.gateway, "TW", next_seq=4)
        self.clients.append(tw)
        reply = tw.logon()
        if reply.seq > 4:
            # the fill went into the store while TW was away: ask for it
            self.assertEqual(reply.seq, 5, f"one message (the fill) was stored while TW was away: {reply.text()}")
            tw.send("2", [(7, 4), (16, 0)])
            msg = tw.recv()
            self.check(msg, {35: "8", 34: "4", 43: "Y", 11: "S1", 150: "F", 39: "2", 32: D(10)},
                       "the fill, sent again")
        else:
            msg = tw.recv()
            self.check(msg, {35: "8", 11: "S1", 150: "F", 39: "2", 32: D(10)}, "the fill, after the Logon")

    def test_many_small_resting_orders_swept_by_one(self):
        tw, tw2 = self.client("TW"), self.client("TW2")
        count = 100
        for i in range(count):
            tw.new_order(f"SW-{i}", side="2", qty=1, price="150.25")
        for i in range(count):
            self.ack(tw, f"SW-{i}")
        tw2.new_order("SWEEP", side="1", qty=count, price="150.25")
        cum = D(0)
        msg = self.report(tw2, "SWEEP", allow_new=True)
        while True:
            self.check(msg, {150: "F", 31: D("150.25")}, "sweep fill")
            cum += msg.decimal(32)
            self.assertEqual(msg.decimal(14), cum, f"CumQty is the sum of LastQty: {msg.text()}")
            self.check_quantities(msg, count)
            if msg.get(39) == "2":
                break
            msg = self.report(tw2, "SWEEP")
        self.assertEqual(cum, count)
        for i in range(count):
            self.fill(tw, f"SW-{i}", "2", 1, "150.25", 1, 0)
        tw.expect_silence(0.3)

    def test_trade_at_the_resting_price(self):
        tw, tw2 = self.client("TW"), self.client("TW2")
        tw.new_order("S1", side="2", qty=10, price="150.25")
        self.ack(tw, "S1")
        tw2.new_order("B1", side="1", qty=10, price="150.40")
        self.fill(tw, "S1", "2", 10, "150.25", 10, 0)
        self.fill(tw2, "B1", "2", 10, "150.25", 10, 0, allow_new=True)

    def test_partial_fills(self):
        tw, tw2 = self.client("TW"), self.client("TW2")
        tw.new_order("S1", side="2", qty=100, price="150.25")
        self.ack(tw, "S1")
        tw2.new_order("B1", side="1", qty=40, price="150.25")
        msg = self.fill(tw, "S1", "1", 40, "150.25", 40, 60, "150.25", what="first partial fill")
        self.check_quantities(msg, 100)
        self.fill(tw2, "B1", "2", 40, "150.25", 40, 0, allow_new=True)
        tw2.new_order("B2", side="1", qty=60, price="150.25", account=3)
        self.fill(tw, "S1", "2", 60, "150.25", 100, 0, "150.25", what="second fill completes the sell")
        buy = self.fill(tw2, "B2", "2", 60, "150.25", 60, 0, allow_new=True)
        self.check(buy, {1: "3"}, "account 3")

    def test_average_price_over_two_levels(self):
        tw, tw2 = self.client("TW"), self.client("TW2")
        tw.new_order("S1", side="2", qty=50, price="150.25")
        self.ack(tw, "S1")
        tw.new_order("S2", side="2", qty=50, price="150.27")
        self.ack(tw, "S2")
        tw2.new_order("B1", side="1", qty=100, price="150.30")
        first = self.fill(tw2, "B1", "1", 50, "150.25", 50, 50, "150.25", allow_new=True, what="first level")
        second = self.fill(tw2, "B1", "2", 50, "150.27", 100, 0, "150.26", what="second level")
        self.assertEqual(first[37], second[37])
        self.fill(tw, "S1", "2", 50, "150.25", 50, 0)
        self.fill(tw, "S2", "2", 50, "150.27", 50, 0)

    def test_ioc_remainder_is_canceled(self):
        tw, tw2 = self.client("TW"), self.client("TW2")
        tw.new_order("S1", side="2", qty=50, price="150.25")
        self.ack(tw, "S1")
        tw2.new_order("IOC1", side="1", qty=80, price="150.25", tif="3")
        self.fill(tw2, "IOC1", "1", 50, "150.25", 50, 30, allow_new=True, what="IOC fill")
        msg = self.report(tw2, "IOC1")
        self.check(msg, {150: "4", 39: "4", 14: D(50), 151: D(0)}, "IOC remainder canceled")
        self.fill(tw, "S1", "2", 50, "150.25", 50, 0)

    def test_ioc_without_liquidity_is_canceled(self):
        tw2 = self.client("TW2")
        tw2.new_order("IOC1", side="1", qty=10, price="150.25", tif="3")
        msg = self.report(tw2, "IOC1", allow_new=True)
        self.check(msg, {150: "4", 39: "4", 14: D(0), 151: D(0)}, "IOC with nothing to trade")

    def test_fok_that_cannot_fill_entirely_trades_nothing(self):
        tw, tw2 = self.client("TW"), self.client("TW2")
        tw.new_order("S1", side="2", qty=50, price="150.25")
        self.ack(tw, "S1")
        tw2.new_order("FOK1", side="1", qty=80, price="150.25", tif="4")
        msg = self.report(tw2, "FOK1", allow_new=True)
        self.check(msg, {150: "4", 39: "4", 14: D(0), 151: D(0)}, "FOK killed without a fill")
        tw.expect_silence(0.5)
        tw2.new_order("B2", side="1", qty=50, price="150.25")
        self.fill(tw, "S1", "2", 50, "150.25", 50, 0, what="the sell was untouched by the FOK")

    def test_fok_that_can_fill_entirely_trades(self):
        tw, tw2 = self.client("TW"), self.client("TW2")
        tw.new_order("S1", side="2", qty=100, price="150.25")
        self.ack(tw, "S1")
        tw2.new_order("FOK1", side="1", qty=100, price="150.25", tif="4")
        self.fill(tw2, "FOK1", "2", 100, "150.25", 100, 0, allow_new=True)
        self.fill(tw, "S1", "2", 100, "150.25", 100, 0)

    def test_market_order_trades_at_the_resting_price(self):
        tw, tw2 = self.client("TW"), self.client("TW2")
        tw.new_order("S1", side="2", qty=100, price="150.25")
        self.ack(tw, "S1")
        tw2.new_order("M1", side="1", qty=30, ordtype="1")
        self.fill(tw2, "M1", "2", 30, "150.25", 30, 0, allow_new=True)
        self.fill(tw, "S1", "1", 30, "150.25", 30, 70)

    def test_market_order_without_liquidity_is_canceled(self):
        tw2 = self.client("TW2")
        tw2.new_order("M1", side="1", qty=30, ordtype="1")
        msg = self.report(tw2, "M1", allow_new=True)
        self.check(msg, {150: "4", 39: "4", 14: D(0), 151: D(0)}, "market order with nothing to trade")

    def test_day_order_keeps_resting_after_partial_fill(self):
        tw, tw2 = self.client("TW"), self.client("TW2")
        tw.new_order("S1", side="2", qty=100, price="150.25", tif="0")
        self.ack(tw, "S1")
        tw2.new_order("B1", side="1", qty=150, price="150.25", tif="0")
        self.fill(tw2, "B1", "1", 100, "150.25", 100, 50, allow_new=True)
        self.fill(tw, "S1", "2", 100, "150.25", 100, 0)
        tw.new_order("S2", side="2", qty=50, price="150.25")
        self.fill(tw, "S2", "2", 50, "150.25", 50, 0, allow_new=True)
        self.fill(tw2, "B1", "2", 50, "150.25", 150, 0, "150.25")


class CancelsAndReplaces(GatewayTestCase):
    def test_cancel(self):
        tw, tw2 = self.client("TW"), self.client("TW2")
        tw.new_order("A1", side="2", price="150.25")
        order_id = self.ack(tw, "A1")[37]
        tw.cancel("C1", "A1", side="2")
        msg = tw.recv()
        self.check(msg, {35: "8", 150: "4", 39: "4", 11: "C1", 41: "A1", 37: order_id, 151: D(0), 14: D(0)}, "Canceled")
        tw2.new_order("B1", side="1", price="150.25")
        self.ack(tw2, "B1", "nothing left to trade with")
        tw.expect_silence(0.5)

    def test_cancel_of_partially_filled_order(self):
        tw, tw2 = self.client("TW"), self.client("TW2")
        tw.new_order("A1", side="2", qty=100, price="150.25")
        self.ack(tw, "A1")
        tw2.new_order("B1", side="1", qty=30, price="150.25")
        self.fill(tw, "A1", "1", 30, "150.25", 30, 70)
        tw.cancel("C1", "A1", side="2")
        self.check(tw.recv(), {35: "8", 150: "4", 39: "4", 11: "C1", 41: "A1", 14: D(30), 151: D(0),
                               6: D("150.25")}, "Canceled after a partial fill")

    def test_cancel_of_filled_order_is_refused(self):
        tw, tw2 = self.client("TW"), self.client("TW2")
        tw.new_order("A1", side="2", qty=10, price="150.25")
        self.ack(tw, "A1")
        tw2.new_order("B1", side="1", qty=10, price="150.25")
        self.fill(tw, "A1", "2", 10, "150.25", 10, 0)
        tw.cancel("C1", "A1", side="2")
        self.check(tw.recv(), {35: "9", 434: "1", 11: "C1", 41: "A1"}, "nothing left to cancel")

    def test_replace_of_partially_filled_order(self):
        tw, tw2 = self.client("TW"), self.client("TW2")
        tw.new_order("A1", side="2", qty=100, price="150.25")
        self.ack(tw, "A1")
        tw2.new_order("B1", side="1", qty=40, price="150.25")
        self.fill(tw, "A1", "1", 40, "150.25", 40, 60)
        tw.replace("R1", "A1", qty=80, price="150.30", side="2")
        msg = tw.recv()
        self.check(msg, {35: "8", 150: "5", 39: "1", 11: "R1", 41: "A1", 38: D(80), 44: D("150.30"),
                         14: D(40), 151: D(40)}, "Replaced: OrderQty is the new total, LeavesQty what remains")

    def test_replace_that_crosses_trades(self):
        tw, tw2 = self.client("TW"), self.client("TW2")
        tw2.new_order("B1", side="1", qty=50, price="150.20")
        self.ack(tw2, "B1")
        tw.new_order("A1", side="2", qty=50, price="150.30")
        self.ack(tw, "A1")
        tw.replace("R1", "A1", qty=50, price="150.20", side="2")
        self.check(tw.recv(), {35: "8", 150: "5", 11: "R1", 41: "A1", 44: D("150.20")}, "Replaced")
        self.fill(tw, "R1", "2", 50, "150.20", 50, 0, what="the replaced sell now trades")
        self.fill(tw2, "B1", "2", 50, "150.20", 50, 0)

    def test_cancel_of_unknown_order(self):
        tw = self.client("TW")
        tw.cancel("C1", "NOPE")
        msg = tw.recv()
        self.check(msg, {35: "9", 434: "1", 102: "1", 11: "C1", 41: "NOPE", 39: PRESENT}, "OrderCancelReject")

    def test_cancel_of_another_sessions_order_is_refused(self):
        tw, tw2 = self.client("TW"), self.client("TW2")
        tw.new_order("A1", side="2", price="150.25")
        self.ack(tw, "A1")
        tw2.cancel("C1", "A1", side="2")
        msg = tw2.recv()
        self.check(msg, {35: "9", 434: "1", 11: "C1", 41: "A1"}, "TW2 cannot cancel TW's order")
        tw.expect_silence(0.5)
        tw2.new_order("B1", side="1", price="150.25")
        self.fill(tw, "A1", "2", 100, "150.25", 100, 0, what="TW's order is still live")

    def test_canceled_order_cannot_be_canceled_again(self):
        tw = self.client("TW")
        tw.new_order("A1")
        self.ack(tw, "A1")
        tw.cancel("C1", "A1")
        self.check(tw.recv(), {35: "8", 150: "4", 11: "C1"}, "Canceled")
        tw.cancel("C2", "A1")
        self.check(tw.recv(), {35: "9", 434: "1", 11: "C2", 41: "A1"}, "second cancel refused")

    def test_replace_changes_price_and_quantity(self):
        tw, tw2 = self.client("TW"), self.client("TW2")
        tw.new_order("A1", side="2", qty=100, price="150.25")
        order_id = self.ack(tw, "A1")[37]
        tw.replace("R1", "A1", qty=200, price="150.30", side="2")
        msg = tw.recv()
        self.check(msg, {35: "8", 150: "5", 39: "0", 11: "R1", 41: "A1", 38: D(200), 44: D("150.30"),
                         151: D(200), 37: order_id}, "Replaced")
        tw2.new_order("B1", side="1", qty=200, price="150.25")
        self.ack(tw2, "B1", "the old price no longer trades")
        tw2.new_order("B2", side="1", qty=200, price="150.30")
        self.fill(tw, "R1", "2", 200, "150.30", 200, 0, what="the replaced order trades under its new ClOrdID")

    def test_replace_then_cancel_by_new_clordid(self):
        tw = self.client("TW")
        tw.new_order("A1", qty=100, price="150.25")
        self.ack(tw, "A1")
        tw.replace("R1", "A1", qty=50, price="150.20")
        self.check(tw.recv(), {35: "8", 150: "5", 11: "R1", 41: "A1", 38: D(50), 44: D("150.20")}, "Replaced")
        tw.cancel("C1", "R1")
        self.check(tw.recv(), {35: "8", 150: "4", 39: "4", 11: "C1", 41: "R1"}, "canceled by its new ClOrdID")

    def test_replace_of_unknown_order(self):
        tw = self.client("TW")
        tw.replace("R1", "NOPE", qty=10, price="150.25")
        msg = tw.recv()
        self.check(msg, {35: "9", 434: "2", 11: "R1", 41: "NOPE", 39: PRESENT}, "OrderCancelReject for a replace")

    def test_replace_of_another_sessions_order_is_refused(self):
        tw, tw2 = self.client("TW"), self.client("TW2")
        tw.new_order("A1", side="2", price="150.25")
        self.ack(tw, "A1")
        tw2.replace("R1", "A1", qty=1, price="150.25", side="2")
        self.check(tw2.recv(), {35: "9", 434: "2", 11: "R1", 41: "A1"}, "TW2 cannot replace TW's order")
        tw.expect_silence(0.5)


class BusinessRejects(GatewayTestCase):
    def test_market_data_request_gets_business_reject(self):
        tw = self.client("TW")
        tw.send("V", [(262, "md-1"), (263, 1), (264, 1), (267, 1), (269, 0), (146, 1), (55, "AAPL")])
        msg = tw.recv()
        self.check(msg, {35: "j", 380: "3", 372: "V", 45: "2"}, "BusinessMessageReject")


if __name__ == "__main__":
    unittest.main()
