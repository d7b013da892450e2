"""Process lifecycle: SIGTERM exits 0, and FIX sequence numbers and sent messages
survive a restart on the same state_dir."""

import signal
import unittest

from gatewaycase import PRESENT, GatewayTestCase
from harness import Disconnected, FixClient


class Restart(GatewayTestCase):
    def restart(self):
        for client in self.clients:
            client.close()
        code = self.gateway.stop()
        self.assertEqual(code, 0, "chronos run should exit 0 on SIGTERM")
        self.gateway.start()

    def test_sigterm_exits_zero(self):
        tw = self.client("TW")
        tw.new_order("A1")
        self.ack(tw, "A1")
        code = self.gateway.stop()
        self.assertEqual(code, 0, "chronos run should exit 0 on SIGTERM")

    def test_sigint_exits_zero(self):
        tw = self.client("TW")
        tw.new_order("A1")
        self.ack(tw, "A1")
        code = self.gateway.stop(sig=signal.SIGINT)
        self.assertEqual(code, 0, "chronos run should exit 0 on SIGINT")

    def test_sequence_numbers_and_messages_survive_a_restart(self):
        tw = self.client("TW")
        tw.new_order("R1")
        first = self.ack(tw, "R1")
        tw.new_order("R2", price="150.20")
        second = self.ack(tw, "R2")
        self.assertEqual((first.seq, second.seq), (2, 3))
        tw.logout()  # our 4, its 4
        self.restart()

        tw = FixClient(self.gateway, "TW", next_seq=5)
        self.clients.append(tw)
        tw.logon(expect_seq=5)
        tw.send("2", [(7, 2), (16, 3)])
        for original in (first, second):
            resent = tw.recv()
            self.check(resent, {35: "8", 34: str(original.seq), 43: "Y", 122: PRESENT, 11: original[11],
                                17: original[17], 37: original[37], 150: "0"}, "ExecutionReport sent again after restart")
        tw.send("1", [(112, "AFTER")])
        self.check(tw.recv(), {35: "0", 112: "AFTER", 34: "6"}, "sequence goes on after the resend")

    def test_restart_while_logged_on(self):
        tw = self.client("TW")
        tw.new_order("R1")
        self.ack(tw, "R1")
        code = self.gateway.stop()
        self.assertEqual(code, 0, "chronos run should exit 0 on SIGTERM")
        # a Logout on the way out is fine; whatever was sent counts
        last = tw.last_seq
        try:
            while tw.receive(0.5) is not None:
                last = tw.last_seq
        except Disconnected:
            pass
        tw.close()
        self.gateway.start()
        tw = FixClient(self.gateway, "TW", next_seq=3)
        self.clients.append(tw)
        tw.logon(expect_seq=last + 1)
        tw.new_order("R2", price="150.20")
        self.check(self.ack(tw, "R2"), {34: str(last + 2)}, "sequence goes on")

    def test_order_and_exec_ids_stay_unique_across_a_restart(self):
        tw = self.client("TW")
        before = []
        for i in range(3):
            tw.new_order(f"U{i}", price=f"150.{10 + i}")
            before.append(self.ack(tw, f"U{i}"))
        tw.logout()  # our 5, its 5
        self.restart()
        tw = FixClient(self.gateway, "TW", next_seq=6)
        self.clients.append(tw)
        tw.logon(expect_seq=6)
        after = []
        for i in range(3):
            tw.new_order(f"V{i}", price=f"150.{10 + i}")
            after.append(self.ack(tw, f"V{i}"))
        old_exec = {m[17] for m in before}
        old_orders = {m[37] for m in before}
        for msg in after:
            self.assertNotIn(msg[17], old_exec, f"ExecID reused after the restart: {msg.text()}")
            self.assertNotIn(msg[37], old_orders, f"OrderID reused after the restart: {msg.text()}")

    def test_logon_with_too_low_seq_after_restart_is_refused(self):
        tw = self.client("TW")
        tw.new_order("R1")
        self.ack(tw, "R1")
        tw.new_order("R2")
        self.ack(tw, "R2")
        self.restart()
        tw = FixClient(self.gateway, "TW", next_seq=1)
        self.clients.append(tw)
        tw.connect()
        tw.send("A", [(98, 0), (108, 30)])
        seen = tw.wait_closed(10)
        others = [m.text() for m in seen if m.msgtype != "5"]
        self.assertEqual(others, [], "only a Logout may come before the disconnect")

    def test_reset_seq_num_flag_after_restart(self):
        tw = self.client("TW")
        tw.new_order("R1")
        self.ack(tw, "R1")
        self.restart()
        tw = FixClient(self.gateway, "TW")
        self.clients.append(tw)
        reply = tw.logon(reset=True)
        self.check(reply, {34: "1", 141: "Y"}, "Logon with ResetSeqNumFlag")
        tw.new_order("R2")
        self.check(self.ack(tw, "R2"), {34: "2"}, "first report after the reset")


if __name__ == "__main__":
    unittest.main()
