"""Bad input must not disturb the gateway: random bytes, oversized messages,
connections dropped in the middle of a message, byte-by-byte writes, idle
connections. After each, the other sessions keep trading."""

import random
import socket
import time
import unittest

from gatewaycase import GatewayTestCase
from harness import Disconnected, FixClient, encode, utc_timestamp


class BadInput(GatewayTestCase):
    def raw_connection(self):
        sock = socket.create_connection(self.gateway.fix_addr, timeout=5)
        self.addCleanup(sock.close)
        return sock

    def send_quietly(self, sock, data: bytes, label: str):
        self.transcript.note(f"{label}: {len(data)} bytes")
        try:
            sock.sendall(data)
        except OSError as exc:  # the gateway may close such a connection at once
            self.transcript.note(f"{label}: send stopped: {exc}")

    def assert_trading_works(self, tw: FixClient, tw2: FixClient, tag: str):
        self.assertTrue(self.gateway.alive(), "the gateway process died")
        tw.new_order(f"{tag}-S", side="2", qty=10, price="250.50", symbol="MSFT")
        self.ack(tw, f"{tag}-S")
        tw2.new_order(f"{tag}-B", side="1", qty=10, price="250.50", symbol="MSFT")
        self.fill(tw, f"{tag}-S", "2", 10, "250.50", 10, 0)
        self.fill(tw2, f"{tag}-B", "2", 10, "250.50", 10, 0, allow_new=True)

    def test_random_bytes_on_a_new_connection(self):
        tw, tw2 = self.client("TW"), self.client("TW2")
        rng = random.Random(20240101)
        junk = self.raw_connection()
        self.send_quietly(junk, rng.randbytes(256 * 1024), "random bytes")
        junk.close()
        self.assert_trading_works(tw, tw2, "RND")

    def test_random_bytes_in_a_logged_on_session(self):
        tw, tw2 = self.client("TW"), self.client("TW2")
        rng = random.Random(7)
        junk = bytes(b for b in rng.randbytes(64 * 1024) if b != 0x01)
        self.transcript.note(f"TW sends {len(junk)} random bytes without SOH")
        try:
            tw.send_bytes(junk, log=False)
        except Disconnected:
            pass
        tw.close()
        time.sleep(0.5)
        tw = self.client("TW", reset=True)
        self.assert_trading_works(tw, tw2, "RND")

    def test_oversized_declared_body_length(self):
        tw, tw2 = self.client("TW"), self.client("TW2")
        junk = self.raw_connection()
        head = b"8=FIX.4.4\x019=500000000\x0135=D\x0134=1\x0149=TW\x01"
        self.send_quietly(junk, head + b"x" * (4 * 1024 * 1024), "message declaring 500 MB")
        self.assert_trading_works(tw, tw2, "BIG1")
        junk.close()
        self.assert_trading_works(tw, tw2, "BIG2")

    def test_oversized_well_formed_message(self):
        tw, tw2 = self.client("TW"), self.client("TW2")
        junk = self.raw_connection()
        big = encode([("35", "A"), ("34", "1"), ("49", "TW"), ("52", utc_timestamp()), ("56", "ISLD"),
                      ("98", "0"), ("108", "30"), ("58", "y" * (2 * 1024 * 1024))])
        self.send_quietly(junk, big, "2 MB Logon")
        self.assert_trading_works(tw, tw2, "BIG")

    def test_endless_field_without_soh(self):
        tw, tw2 = self.client("TW"), self.client("TW2")
        junk = self.raw_connection()
        self.send_quietly(junk, b"8=FIX.4.4\x019=" + b"9" * (1024 * 1024), "1 MB BodyLength")
        self.assert_trading_works(tw, tw2, "LEN")

    def test_connection_dropped_mid_message(self):
        tw = self.client("TW")
        tw2 = self.client("TW2")
        order = encode([("35", "D"), ("34", "2"), ("49", "TW"), ("52", utc_timestamp()), ("56", "ISLD"),
                        ("11", "HALF"), ("55", "AAPL"), ("54", "1"), ("60", utc_timestamp()), ("38", "100"),
                        ("40", "2"), ("44", "150.25")])
        tw.send_bytes(order[: len(order) // 2])
        time.sleep(0.2)
        tw.close()
        time.sleep(0.5)
        # the half message never counted: TW goes on with 2, the gateway with 2
        tw = FixClient(self.gateway, "TW", next_seq=2)
        self.clients.append(tw)
        tw.logon(expect_seq=2)
        self.assert_trading_works(tw, tw2, "HALF")

    def test_message_written_byte_by_byte(self):
        tw = self.client("TW")
        order = encode([("35", "D"), ("34", "2"), ("49", "TW"), ("52", utc_timestamp()), ("56", "ISLD"),
                        ("11", "SLOW"), ("55", "AAPL"), ("54", "1"), ("60", utc_timestamp()), ("38", "100"),
                        ("40", "2"), ("44", "150.25")])
        tw.transcript.add(tw.name, "->", order)
        for i in range(len(order)):
            tw.sock.sendall(order[i:i + 1])
            time.sleep(0.002)
        tw.next_seq = 3
        self.ack(tw, "SLOW")

    def test_many_messages_in_one_write(self):
        tw = self.client("TW")
        batch = b""
        for i in range(50):
            batch += encode([("35", "D"), ("34", str(2 + i)), ("49", "TW"), ("52", utc_timestamp()), ("56", "ISLD"),
                             ("11", f"BATCH-{i}"), ("55", "AAPL"), ("54", "1"), ("60", utc_timestamp()),
                             ("38", "1"), ("40", "2"), ("44", "100.00")])
        tw.transcript.note(f"TW sends 50 orders in one write ({len(batch)} bytes)")
        tw.sock.sendall(batch)
        tw.next_seq = 52
        for i in range(50):
            self.check(self.ack(tw, f"BATCH-{i}"), {34: str(2 + i)}, "reports in order")

    def test_idle_and_stalled_connections_do_not_block_others(self):
        idle = self.raw_connection()
        stalled = self.raw_connection()
        stalled.sendall(b"8=FIX.4.4\x019=120\x0135=A\x0134=1\x01")
        tw, tw2 = self.client("TW"), self.client("TW2")
        self.assert_trading_works(tw, tw2, "IDLE")
        idle.close()
        stalled.close()

    def test_many_short_lived_connections(self):
        for i in range(50):
            sock = socket.create_connection(self.gateway.fix_addr, timeout=5)
            if i % 2:
                try:
                    sock.sendall(b"8=FIX.4.4\x019=5\x0135=A\x01")
                except OSError:
                    pass
            sock.close()
        tw, tw2 = self.client("TW"), self.client("TW2")
        self.assert_trading_works(tw, tw2, "CHURN")


if __name__ == "__main__":
    unittest.main()
