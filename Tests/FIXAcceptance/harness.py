"""Black-box harness for the Chronos FIX gateway.

Everything the acceptance tests need to drive `chronos run` from the outside:
the config file, the process (start, wait for the ready line, SIGTERM), a FIX 4.4
wire codec that checks every frame the gateway sends, a small FIX client and a
transcript of everything exchanged (printed with | instead of SOH on failure).

Written from the FIX 4.4 specification and the gateway's contract, not from its code.
"""

from __future__ import annotations

import collections
import datetime as _dt
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from decimal import Decimal, InvalidOperation
from pathlib import Path

SOH = b"\x01"
BEGIN_STRING = "FIX.4.4"
REPO_ROOT = Path(__file__).resolve().parents[2]

# Every wait is bounded so that no hang can stall CI.
EXPECT_TIMEOUT = float(os.environ.get("FIX_EXPECT_TIMEOUT", "5"))
READY_TIMEOUT = float(os.environ.get("FIX_READY_TIMEOUT", "60"))
STOP_TIMEOUT = float(os.environ.get("FIX_STOP_TIMEOUT", "20"))

TIMESTAMP_RE = r"\d{8}-\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?"

# The exchange's CompID and the two client sessions of the contract.
EXCHANGE_COMP_ID = "ISLD"
SESSIONS = (
    {"sender_comp_id": "ISLD", "target_comp_id": "TW", "accounts": [1]},
    {"sender_comp_id": "ISLD", "target_comp_id": "TW2", "password": "secret", "accounts": [2, 3]},
)
PASSWORDS = {"TW2": "secret"}
SYMBOL_SETTINGS = {
    "tick_size": 1,
    "lot_size": 1,
    "min_qty": 1,
    "max_qty": 1000000,
    "min_price": 1,
    "max_price": 100000000,
    "price_decimals": 2,
}
SYMBOLS = ("AAPL", "MSFT")


def chronos_binary() -> Path:
    override = os.environ.get("CHRONOS_BIN")
    if override:
        return Path(override).resolve()
    return REPO_ROOT / ".build" / "debug" / "chronos"


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def write_config(path: Path, state_dir: Path, symbols=SYMBOLS, sessions=SESSIONS) -> Path:
    """The one place that knows the config file's keys (they may still move)."""
    lines = []
    for name in symbols:
        lines.append("[[symbols]]")
        lines.append(f"name = {_toml_value(name)}")
        for key, value in SYMBOL_SETTINGS.items():
            lines.append(f"{key} = {_toml_value(value)}")
        lines.append("")
    lines += ["[metrics]", "enabled = false", ""]
    lines += [
        "[gateway]",
        'name = "gw-test"',
        'host = "127.0.0.1"',
        "fix_port = 0",
        "binary_port = 0",
        "udp_port = 0",
        f"state_dir = {_toml_value(str(state_dir))}",
        "",
    ]
    # Pre-trade risk: a reference price per symbol (as an operator sets the previous close) so that
    # market orders can be valued before the first trade, and no price band (these tests place
    # orders far apart on purpose; risk limits have their own tests).
    for name in symbols:
        lines += ["[[risk.symbols]]", f"name = {_toml_value(name)}", "reference_price = 15000", "price_band_bps = 0", ""]
    for session in sessions:
        lines.append("[[gateway.fix_sessions]]")
        for key, value in session.items():
            lines.append(f"{key} = {_toml_value(value)}")
        lines.append("")
    path.write_text("\n".join(lines))
    return path


def utc_timestamp(offset_seconds: float = 0.0) -> str:
    moment = _dt.datetime.now(_dt.timezone.utc) + _dt.timedelta(seconds=offset_seconds)
    return moment.strftime("%Y%m%d-%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def printable(data: bytes | str, limit: int = 2000) -> str:
    if isinstance(data, bytes):
        text = data.decode("latin-1")
    else:
        text = data
    text = text.replace("\x01", "|")
    text = "".join(ch if (32 <= ord(ch) < 127) else f"\\x{ord(ch):02x}" for ch in text)
    if len(text) > limit:
        text = text[:limit] + f"...({len(text)} chars)"
    return text


# --------------------------------------------------------------------------------------
# Transcript


class Transcript:
    """Everything sent and received, in order, for the failure report."""

    def __init__(self):
        self.t0 = time.monotonic()
        self.lines: list[str] = []
        self.gateways: list["Gateway"] = []

    def add(self, who: str, arrow: str, data) -> None:
        elapsed = time.monotonic() - self.t0
        self.lines.append(f"{elapsed:8.3f} {who:>6} {arrow} {printable(data)}")

    def note(self, text: str) -> None:
        self.add("", "**", text)

    def render(self) -> str:
        out = ["---- FIX exchange (-> sent to gateway, <- received, ** event) ----"]
        out += self.lines or ["(nothing exchanged)"]
        for gw in self.gateways:
            out.append(f"---- gateway output ({gw.workdir.name}) ----")
            out += gw.output_tail(40) or ["(no output)"]
        return "\n".join(out)


# --------------------------------------------------------------------------------------
# The process


class GatewayError(Exception):
    pass


class Gateway:
    """One `chronos run` process with its own temp dir (config, state_dir, stderr)."""

    def __init__(self, transcript: Transcript | None = None, workdir: Path | None = None):
        self.transcript = transcript or Transcript()
        self.transcript.gateways.append(self)
        self.own_workdir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="chronos-fix-"))
        self.state_dir = self.workdir / "state"
        self.config_path = self.workdir / "chronos.toml"
        self.proc: subprocess.Popen | None = None
        self.fix_addr: tuple[str, int] | None = None
        self.ready_line = None
        self._output: list[str] = []
        self._ready = threading.Event()
        self._reader: threading.Thread | None = None
        self.exit_codes: list[int] = []

    # -- lifecycle

    def start(self) -> "Gateway":
        binary = chronos_binary()
        if not binary.exists():
            raise GatewayError(
                f"chronos binary not found at {binary}: build it (swift build --product chronos) "
                "or point CHRONOS_BIN at it"
            )
        self.state_dir.mkdir(parents=True, exist_ok=True)
        write_config(self.config_path, self.state_dir)
        self._ready.clear()
        self.fix_addr = None
        stderr = open(self.workdir / "stderr.log", "ab")
        self.proc = subprocess.Popen(
            [str(binary), "run", "--config", str(self.config_path)],
            cwd=self.workdir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
        stderr.close()
        self._reader = threading.Thread(target=self._read_stdout, args=(self.proc,), daemon=True)
        self._reader.start()
        deadline = time.monotonic() + READY_TIMEOUT
        while not self._ready.wait(0.05):
            if self.proc.poll() is not None:
                self._reader.join(2)
                raise GatewayError(
                    f"chronos exited with {self.proc.returncode} before 'gateway ready':\n"
                    + "\n".join(self.output_tail(60))
                )
            if time.monotonic() > deadline:
                self.kill()
                raise GatewayError(
                    f"no 'gateway ready' line within {READY_TIMEOUT:.0f} s:\n" + "\n".join(self.output_tail(60))
                )
        if self.fix_addr is None:
            raise GatewayError(f"ready line without fix=<host>:<port>: {self.ready_line!r}")
        self.transcript.note(f"gateway started: {self.ready_line.strip()}")
        return self

    def _read_stdout(self, proc):
        for raw in iter(proc.stdout.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self._output.append(line)
            if "gateway ready" in line and not self._ready.is_set():
                self.ready_line = line
                match = re.search(r"fix=(\S+):(\d+)", line)
                if match:
                    host = match.group(1).strip("[]")
                    self.fix_addr = (host, int(match.group(2)))
                self._ready.set()
        proc.stdout.close()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = STOP_TIMEOUT, sig: int = signal.SIGTERM) -> int | None:
        """SIGTERM (or sig) and wait; returns the exit code (None when it had to be killed)."""
        if self.proc is None:
            return None
        proc = self.proc
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.transcript.note(f"gateway ignored signal {int(sig)} for {timeout:.0f} s: killed")
                proc.kill()
                proc.wait(10)
                if self._reader:
                    self._reader.join(2)
                self.exit_codes.append(None)
                self.proc = None
                return None
        if self._reader:
            self._reader.join(5)
        self.transcript.note(f"gateway exited with {proc.returncode}")
        self.exit_codes.append(proc.returncode)
        self.proc = None
        return proc.returncode

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None

    def cleanup(self):
        try:
            if self.alive():
                self.stop()
        finally:
            self.kill()
            if self.own_workdir and not os.environ.get("FIX_KEEP_TMP"):
                shutil.rmtree(self.workdir, ignore_errors=True)

    def output_tail(self, count: int) -> list[str]:
        lines = ["stdout: " + line for line in self._output[-count:]]
        try:
            err = (self.workdir / "stderr.log").read_text(errors="replace").splitlines()
        except OSError:
            err = []
        lines += ["stderr: " + line for line in err[-count:]]
        return lines


# --------------------------------------------------------------------------------------
# Wire codec


class ProtocolViolation(AssertionError):
    """The gateway sent bytes that are not a well-formed FIX 4.4 message."""


class Message:
    def __init__(self, raw: bytes):
        self.raw = raw
        text = raw.decode("latin-1")
        if text.endswith("\x01"):
            text = text[:-1]
        self.fields: list[tuple[str, str]] = []
        for item in text.split("\x01"):
            tag, sep, value = item.partition("=")
            if not sep:
                raise ProtocolViolation(f"field without '=': {item!r} in {printable(raw)}")
            self.fields.append((tag, value))

    def get(self, tag, default=None):
        tag = str(tag)
        for t, v in self.fields:
            if t == tag:
                return v
        return default

    def all(self, tag) -> list[str]:
        tag = str(tag)
        return [v for t, v in self.fields if t == tag]

    def __getitem__(self, tag):
        value = self.get(tag)
        if value is None:
            raise KeyError(f"tag {tag} missing in {self.text()}")
        return value

    def __contains__(self, tag) -> bool:
        return self.get(tag) is not None

    @property
    def msgtype(self) -> str:
        return self.get(35)

    @property
    def seq(self) -> int | None:
        value = self.get(34)
        return int(value) if value is not None and value.isdigit() else None

    def decimal(self, tag) -> Decimal:
        try:
            return Decimal(self[tag])
        except InvalidOperation as exc:
            raise AssertionError(f"tag {tag} is not a number in {self.text()}") from exc

    def text(self) -> str:
        return printable(self.raw, limit=100000)

    def __repr__(self):
        return f"<Message {self.text()}>"


def checksum(data: bytes) -> str:
    return f"{sum(data) % 256:03d}"


def encode(fields, begin: str = BEGIN_STRING) -> bytes:
    """8, 9 and 10 computed around the given fields (tag, value) in the given order."""
    body = b"".join(f"{t}={v}".encode("latin-1") + SOH for t, v in fields)
    head = f"8={begin}".encode() + SOH + f"9={len(body)}".encode() + SOH
    return head + body + f"10={checksum(head + body)}".encode() + SOH


def split_frame(buf: bytes):
    """Return (frame, rest) when buf starts with a complete frame, None when more bytes are
    needed; raise ProtocolViolation when the bytes cannot be a FIX 4.4 frame."""
    if not buf:
        return None
    prefix = b"8=" + BEGIN_STRING.encode() + SOH + b"9="
    if len(buf) < len(prefix):
        if not prefix.startswith(buf):
            raise ProtocolViolation(f"frame does not start with 8={BEGIN_STRING}|9=: {printable(buf[:200])}")
        return None
    if not buf.startswith(prefix):
        raise ProtocolViolation(f"frame does not start with 8={BEGIN_STRING}|9=: {printable(buf[:200])}")
    end_len = buf.find(SOH, len(prefix))
    if end_len < 0:
        if len(buf) > len(prefix) + 12:
            raise ProtocolViolation(f"BodyLength not terminated: {printable(buf[:200])}")
        return None
    length_text = buf[len(prefix):end_len]
    if not length_text.isdigit():
        raise ProtocolViolation(f"BodyLength is not a number: {printable(buf[:200])}")
    body_start = end_len + 1
    body_end = body_start + int(length_text)
    frame_end = body_end + 7
    if len(buf) < frame_end:
        return None
    trailer = buf[body_end:frame_end]
    if not (trailer.startswith(b"10=") and trailer[3:6].isdigit() and trailer[6:7] == SOH):
        raise ProtocolViolation(
            f"BodyLength {int(length_text)} does not end where CheckSum starts: {printable(buf[:frame_end + 40])}"
        )
    if buf[body_end - 1:body_end] != SOH:
        raise ProtocolViolation(f"body does not end with SOH: {printable(buf[:frame_end])}")
    expected = checksum(buf[:body_end])
    if trailer[3:6].decode() != expected:
        raise ProtocolViolation(
            f"CheckSum {trailer[3:6].decode()} but the bytes sum to {expected}: {printable(buf[:frame_end])}"
        )
    frame = buf[:frame_end]
    if not buf[body_start:].startswith(b"35="):
        raise ProtocolViolation(f"MsgType (35) is not the third field: {printable(frame)}")
    return frame, buf[frame_end:]


# --------------------------------------------------------------------------------------
# The client side of one TCP connection


class Disconnected(Exception):
    pass


class FixConnection:
    """One TCP connection to the gateway's FIX port.

    Every message received is checked: frame (8, 9, 35 third, 10), SendingTime format,
    consecutive MsgSeqNum for messages that are not PossDup resends, OrigSendingTime on
    resent messages, and CompIDs once the session is logged on."""

    def __init__(self, addr, transcript: Transcript, name: str = "c1"):
        self.addr = addr
        self.transcript = transcript
        self.name = name
        self.sock: socket.socket | None = None
        self.buf = b""
        self.pushed_back: collections.deque[Message] = collections.deque()
        self.eof = False
        self.client_comp_id: str | None = None  # set when we send a Logon
        self.logged_on = False
        self.last_seq: int | None = None
        self.received: list[Message] = []

    def connect(self, timeout: float = EXPECT_TIMEOUT):
        self.sock = socket.create_connection(self.addr, timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.transcript.add(self.name, "**", f"connected to {self.addr[0]}:{self.addr[1]}")
        return self

    def send_bytes(self, data: bytes, log: bool = True):
        if self.sock is None:
            raise Disconnected(f"{self.name}: not connected")
        if log:
            self.transcript.add(self.name, "->", data)
        try:
            self.sock.sendall(data)
        except OSError as exc:
            self.transcript.add(self.name, "**", f"send failed: {exc}")
            raise Disconnected(f"{self.name}: send failed: {exc}") from exc
        if data.startswith(b"8=") and b"\x0135=A\x01" in data:
            match = re.search(rb"\x0149=([^\x01]*)\x01", data)
            if match:
                self.client_comp_id = match.group(1).decode("latin-1")

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            finally:
                self.sock = None
                self.transcript.add(self.name, "**", "client closed the connection")

    def push_back(self, msg: Message):
        self.pushed_back.appendleft(msg)

    def _fill(self, deadline: float) -> bool:
        """Read once; False on timeout. Raises Disconnected at EOF."""
        if self.eof:
            raise Disconnected(f"{self.name}: connection closed by the gateway")
        if self.sock is None:
            raise Disconnected(f"{self.name}: not connected")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        ready, _, _ = select.select([self.sock], [], [], remaining)
        if not ready:
            return False
        try:
            chunk = self.sock.recv(65536)
        except (ConnectionResetError, ConnectionAbortedError, OSError) as exc:
            chunk = b""
            self.transcript.add(self.name, "**", f"recv error: {exc}")
        if not chunk:
            self.eof = True
            if self.buf:
                self.transcript.add(self.name, "<-", self.buf)
                self.transcript.add(self.name, "**", "gateway closed the connection inside a message")
                raise ProtocolViolation(f"{self.name}: gateway closed the connection inside a message: {printable(self.buf)}")
            self.transcript.add(self.name, "**", "gateway closed the connection")
            raise Disconnected(f"{self.name}: connection closed by the gateway")
        self.buf += chunk
        return True

    def receive(self, timeout: float = EXPECT_TIMEOUT) -> Message | None:
        """Next message or None on timeout; Disconnected at EOF."""
        if self.pushed_back:
            return self.pushed_back.popleft()
        deadline = time.monotonic() + timeout
        while True:
            try:
                result = split_frame(self.buf)
            except ProtocolViolation:
                self.transcript.add(self.name, "<-", self.buf)
                raise
            if result is not None:
                frame, self.buf = result
                self.transcript.add(self.name, "<-", frame)
                msg = Message(frame)
                self._check(msg)
                self.received.append(msg)
                return msg
            if not self._fill(deadline):
                return None

    def _check(self, msg: Message):
        problems = []
        if msg.get(52) is None or not re.fullmatch(TIMESTAMP_RE, msg.get(52)):
            problems.append(f"SendingTime (52) missing or not a UTCTimestamp: {msg.get(52)!r}")
        seq = msg.seq
        if seq is None:
            problems.append("MsgSeqNum (34) missing or not a number")
        if msg.get(49) is None or msg.get(56) is None:
            problems.append("SenderCompID (49) or TargetCompID (56) missing")
        if self.logged_on and self.client_comp_id:
            if msg.get(49) != EXCHANGE_COMP_ID:
                problems.append(f"SenderCompID (49) should be {EXCHANGE_COMP_ID}")
            if msg.get(56) != self.client_comp_id:
                problems.append(f"TargetCompID (56) should be {self.client_comp_id}")
        possdup = msg.get(43) == "Y"
        if possdup and msg.msgtype != "4" and msg.get(122) is None:
            problems.append("PossDupFlag=Y without OrigSendingTime (122)")
        if seq is not None and not possdup:
            if msg.msgtype == "A" and msg.get(141) == "Y":
                if seq != 1:
                    problems.append("Logon with ResetSeqNumFlag=Y must carry MsgSeqNum 1")
            elif self.last_seq is not None and seq != self.last_seq + 1:
                problems.append(f"MsgSeqNum {seq} after {self.last_seq}: the gateway's sequence is not consecutive")
            self.last_seq = seq
            if msg.msgtype == "4" and msg.get(123) != "Y" and (msg.get(36) or "").isdigit():
                self.last_seq = int(msg.get(36)) - 1
        if msg.msgtype == "A":
            self.logged_on = True
        if problems:
            raise ProtocolViolation(f"{self.name}: invalid message from the gateway: " + "; ".join(problems) + f"\n  {msg.text()}")


# --------------------------------------------------------------------------------------
# A session-aware client for the application tests


class FixClient(FixConnection):
    """FixConnection plus our own outgoing MsgSeqNum and helpers for orders."""

    def __init__(self, gateway: Gateway, comp_id: str = "TW", transcript: Transcript | None = None,
                 name: str | None = None, next_seq: int = 1):
        super().__init__(gateway.fix_addr, transcript or gateway.transcript, name or comp_id)
        self.comp_id = comp_id
        self.next_seq = next_seq
        self.exec_ids: set[str] = set()

    def send(self, msgtype: str, body=(), seq: int | None = None, header=(), sending_time: str | None = None) -> bytes:
        if seq is None:
            seq = self.next_seq
            self.next_seq += 1
        fields = [("35", msgtype), ("34", seq), ("49", self.comp_id), ("52", sending_time or utc_timestamp()),
                  ("56", EXCHANGE_COMP_ID), *header, *body]
        raw = encode([(str(t), str(v)) for t, v in fields])
        self.send_bytes(raw)
        return raw

    def recv(self, timeout: float = EXPECT_TIMEOUT, skip_heartbeats: bool = True) -> Message:
        deadline = time.monotonic() + timeout
        while True:
            msg = self.receive(max(0.0, deadline - time.monotonic()))
            if msg is None:
                raise AssertionError(f"{self.name}: no message from the gateway within {timeout:.1f} s")
            if skip_heartbeats and msg.msgtype == "0" and msg.get(112) is None:
                continue
            if msg.msgtype == "1" and skip_heartbeats:
                # answer TestRequests so that a slow test never loses its session
                self.send("0", [(112, msg.get(112, ""))])
                continue
            if msg.msgtype == "8" and msg.get(43) != "Y":
                exec_id = msg.get(17)
                if exec_id is not None:
                    if exec_id in self.exec_ids:
                        raise AssertionError(f"{self.name}: ExecID {exec_id} used twice: {msg.text()}")
                    self.exec_ids.add(exec_id)
            return msg

    def expect_silence(self, seconds: float):
        deadline = time.monotonic() + seconds
        while True:
            msg = self.receive(max(0.0, deadline - time.monotonic()))
            if msg is None:
                return
            if msg.msgtype == "0" and msg.get(112) is None:
                continue
            raise AssertionError(f"{self.name}: unexpected message: {msg.text()}")

    def wait_closed(self, timeout: float = 10.0) -> list[Message]:
        """Messages received until the gateway closes; AssertionError when it does not."""
        deadline = time.monotonic() + timeout
        seen = []
        try:
            while time.monotonic() < deadline:
                msg = self.receive(max(0.0, deadline - time.monotonic()))
                if msg is not None:
                    seen.append(msg)
        except Disconnected:
            return seen
        raise AssertionError(f"{self.name}: the gateway did not close the connection within {timeout:.0f} s")

    # -- session

    def logon(self, heartbeat: int = 30, password: str | None = None, reset: bool = False,
              seq: int | None = None, expect_seq: int | None = None) -> Message:
        if self.sock is None:
            self.connect()
        if password is None:
            password = PASSWORDS.get(self.comp_id)
        body = [(98, 0), (108, heartbeat)]
        if reset:
            body.append((141, "Y"))
            self.next_seq = 1
            seq = 1
        if password is not None:
            body.append((554, password))
        if seq is not None:
            self.next_seq = seq
        self.send("A", body)
        reply = self.recv()
        if reply.msgtype != "A":
            raise AssertionError(f"{self.name}: Logon answered with {reply.text()}")
        if expect_seq is not None and reply.seq != expect_seq:
            raise AssertionError(f"{self.name}: Logon answered with MsgSeqNum {reply.seq}, expected {expect_seq}: {reply.text()}")
        return reply

    def logout(self, timeout: float = EXPECT_TIMEOUT) -> Message:
        self.send("5")
        deadline = time.monotonic() + timeout
        while True:
            msg = self.recv(max(0.1, deadline - time.monotonic()))
            if msg.msgtype == "5":
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name}: no Logout answer")
        self.close()
        return msg

    # -- orders

    def new_order(self, clordid, side="1", qty=100, price="150.25", symbol="AAPL", ordtype="2",
                  tif=None, account=None, execinst=None, extra=()) -> bytes:
        body = [(11, clordid)]
        if account is not None:
            body.append((1, account))
        if execinst is not None:
            body.append((18, execinst))
        body += [(55, symbol), (54, side), (60, utc_timestamp()), (38, qty), (40, ordtype)]
        if price is not None and ordtype != "1":
            body.append((44, price))
        if tif is not None:
            body.append((59, tif))
        body += list(extra)
        return self.send("D", body)

    def cancel(self, clordid, orig, side="1", symbol="AAPL", qty=None) -> bytes:
        body = [(41, orig), (11, clordid), (55, symbol), (54, side), (60, utc_timestamp())]
        if qty is not None:
            body.append((38, qty))
        return self.send("F", body)

    def replace(self, clordid, orig, qty, price, side="1", symbol="AAPL", ordtype="2") -> bytes:
        body = [(41, orig), (11, clordid), (55, symbol), (54, side), (60, utc_timestamp()),
                (38, qty), (40, ordtype), (44, price)]
        return self.send("G", body)
