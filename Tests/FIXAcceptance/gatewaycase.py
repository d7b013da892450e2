"""Base TestCase: a fresh gateway per test, FIX clients, field assertions, and the
exchange transcript printed when the test fails."""

from __future__ import annotations

import os
import re
import sys
import unittest
from decimal import Decimal

from harness import FixClient, Gateway, Message, Transcript

PRESENT = object()


class GatewayTestCase(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        self.transcript = Transcript()
        self.gateway = Gateway(self.transcript)
        self.clients: list[FixClient] = []
        self.addCleanup(self._finish)
        self.gateway.start()

    def _finish(self):
        failed = not getattr(self._outcome, "success", True)
        died = self.gateway.proc is not None and self.gateway.proc.poll() is not None
        for client in self.clients:
            client.close()
        self.gateway.cleanup()
        if failed or died or os.environ.get("FIX_SHOW_TRANSCRIPT"):
            sys.stderr.write(f"\n==== {self.id()} ====\n")
            if died:
                sys.stderr.write("the gateway process died during the test\n")
            sys.stderr.write(self.transcript.render() + "\n")
        if died and not failed:
            self.fail("the gateway process died during the test")

    # -- clients

    def client(self, comp_id: str = "TW", logon: bool = True, **logon_args) -> FixClient:
        client = FixClient(self.gateway, comp_id)
        self.clients.append(client)
        client.connect()
        if logon:
            client.logon(**logon_args)
        return client

    # -- assertions

    def check(self, msg: Message, expected: dict, what: str = "") -> Message:
        """expected: tag -> str (exact), Decimal (numeric), compiled regex, PRESENT or None (absent)."""
        problems = []
        for tag, want in expected.items():
            got = msg.get(tag)
            if want is None:
                if got is not None:
                    problems.append(f"{tag} should be absent, is {got!r}")
            elif got is None:
                problems.append(f"{tag} missing")
            elif want is PRESENT:
                pass
            elif isinstance(want, Decimal):
                try:
                    ok = Decimal(got) == want
                except Exception:
                    ok = False
                if not ok:
                    problems.append(f"{tag}={got!r}, expected {want}")
            elif isinstance(want, re.Pattern):
                if not want.fullmatch(got):
                    problems.append(f"{tag}={got!r} does not match {want.pattern!r}")
            elif got != str(want):
                problems.append(f"{tag}={got!r}, expected {want!r}")
        if problems:
            self.fail(f"{what}: " + "; ".join(problems) + f"\n  got {msg.text()}")
        return msg

    def check_quantities(self, msg: Message, order_qty):
        """CumQty + LeavesQty = OrderQty on every live report; 0 leaves on a closed one."""
        cum, leaves = msg.decimal(14), msg.decimal(151)
        if msg.get(39) in ("2", "4", "8"):
            self.assertEqual(leaves, 0, f"LeavesQty must be 0 when OrdStatus={msg.get(39)}: {msg.text()}")
        else:
            self.assertEqual(cum + leaves, Decimal(order_qty), f"CumQty + LeavesQty != OrderQty: {msg.text()}")

    def ack(self, client: FixClient, clordid: str, what: str = "") -> Message:
        msg = client.recv()
        self.check(msg, {35: "8", 11: clordid, 150: "0", 39: "0", 37: PRESENT, 17: PRESENT}, what or f"ack of {clordid}")
        return msg

    def report(self, client: FixClient, clordid: str, allow_new: bool = False) -> Message:
        """Next ExecutionReport for clordid; with allow_new a leading 150=0 (New) is passed over."""
        msg = client.recv()
        if allow_new and msg.get(35) == "8" and msg.get(150) == "0" and msg.get(11) == clordid:
            msg = client.recv()
        self.check(msg, {35: "8", 11: clordid}, f"report for {clordid}")
        return msg

    def fill(self, client: FixClient, clordid: str, status: str, last_qty, last_px, cum_qty, leaves_qty,
             avg_px=None, allow_new: bool = False, what: str = "") -> Message:
        msg = self.report(client, clordid, allow_new)
        expected = {150: "F", 39: status, 32: Decimal(last_qty), 31: Decimal(last_px), 14: Decimal(cum_qty),
                    151: Decimal(leaves_qty), 37: PRESENT, 17: PRESENT}
        if avg_px is not None:
            expected[6] = Decimal(avg_px)
        return self.check(msg, expected, what or f"fill of {clordid}")
