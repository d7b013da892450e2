"""Runner for our FIX scenario files (scenarios/*.fixscenario).

A scenario is a script of what the client sends and what it expects back, one step per
line. Blank lines and lines starting with '#' are comments; a comment line
'# mirrors: <name>' names the QuickFIX acceptance test the scenario ports.

    connect [@conn]                        open a TCP connection (default name: c1)
    disconnect [@conn]                     the client closes its connection
    send [@conn] <fields>                  send a message built from tag=value fields joined by '|':
                                           8=FIX.4.4 is put first unless the line starts with 8=,
                                           9 (BodyLength) is inserted after it unless the line has one,
                                           10 (CheckSum) is appended unless the line ends with one
    raw [@conn] <text>                     send the text as it is ('|' becomes SOH)
    expect [@conn] [within=S] [skip=T,..] <patterns>
                                           the next message must match every pattern; messages whose
                                           MsgType is in skip= (e.g. skip=0 for heartbeats) are passed over
    maybe [@conn] [within=S] <patterns>    consume the next message if it matches, else leave it
    expect-silence [@conn] <seconds> [skip=T,..]
                                           no message (other than the skipped types) for that long
    expect-disconnect [@conn] [within=S] [skip=T,..]
                                           the gateway closes the connection; a Logout (35=5) before
                                           the close is allowed, anything else is a failure
    sleep <seconds>
    new-gateway                            stop the gateway and start a fresh one (new state_dir)
    restart-gateway                        SIGTERM (must exit 0) and start again on the same state_dir

Values in sent fields may use {now}, {now+N}, {now-N} (UTCTimestamp, N seconds away),
${name} (a value captured earlier) and, in 9=, {len}, {len+N}, {len-N} (the true BodyLength
plus or minus N). Patterns are tag=<regex> (the whole value must match; '|' inside
parentheses belongs to the regex), or !tag (the tag must be absent); {ts} stands for a
UTCTimestamp and a named group (?P<name>...) captures a value for later ${name}.

Every message received is also checked by the harness: well-formed frame, CheckSum,
BodyLength, SendingTime, consecutive MsgSeqNum (PossDup resends aside) and CompIDs.
"""

from __future__ import annotations

import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import harness
from harness import Disconnected, FixConnection, Gateway, ProtocolViolation, Transcript, utc_timestamp

DEFAULT_MAYBE_WITHIN = 1.0
DEFAULT_DISCONNECT_WITHIN = 10.0
VERBS = {
    "connect", "disconnect", "send", "raw", "expect", "maybe", "expect-silence",
    "expect-disconnect", "sleep", "new-gateway", "restart-gateway",
}


class ScenarioFailure(AssertionError):
    pass


class ScenarioSyntaxError(Exception):
    pass


@dataclass
class Step:
    lineno: int
    text: str
    verb: str
    conn: str = "c1"
    options: dict = field(default_factory=dict)
    payload: str = ""


@dataclass
class Scenario:
    path: Path
    mirrors: str
    summary: str
    steps: list


def split_fields(text: str) -> list[str]:
    """Split on '|' outside parentheses."""
    items, depth, current = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        if ch == "|" and depth == 0:
            items.append("".join(current))
            current = []
        else:
            current.append(ch)
    if current:
        items.append("".join(current))
    return [item for item in items if item != ""]


_OPTION = re.compile(r"(within|skip)=(\S+)\s*")


def parse(path: Path) -> Scenario:
    mirrors, summary, steps = "", [], []
    for lineno, raw in enumerate(Path(path).read_text().splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            comment = line.lstrip("#").strip()
            if comment.lower().startswith("mirrors:"):
                mirrors = comment.split(":", 1)[1].strip()
            elif not steps and comment:
                summary.append(comment)
            continue
        verb, _, rest = line.partition(" ")
        if verb not in VERBS:
            raise ScenarioSyntaxError(f"{path}:{lineno}: unknown step {verb!r}")
        rest = rest.strip()
        conn = "c1"
        if rest.startswith("@"):
            conn, _, rest = rest[1:].partition(" ")
            rest = rest.strip()
        options = {}
        while True:
            match = _OPTION.match(rest)
            if not match:
                break
            options[match.group(1)] = match.group(2)
            rest = rest[match.end():]
        steps.append(Step(lineno, line, verb, conn, options, rest.strip()))
    return Scenario(Path(path), mirrors, " ".join(summary), steps)


class Runner:
    def __init__(self, scenario: Scenario, transcript: Transcript | None = None):
        self.scenario = scenario
        self.transcript = transcript or Transcript()
        self.gateway: Gateway | None = None
        self.conns: dict[str, FixConnection] = {}
        self.vars: dict[str, str] = {}
        self.step: Step | None = None

    # -- helpers

    def fail(self, reason: str):
        step = self.step
        where = f"{self.scenario.path.name}:{step.lineno}: {step.text}" if step else self.scenario.path.name
        raise ScenarioFailure(f"{where}\n  {reason}\n{self.transcript.render()}")

    def conn(self, name: str) -> FixConnection:
        if name not in self.conns:
            self.fail(f"connection @{name} was never opened")
        return self.conns[name]

    def substitute(self, text: str) -> str:
        def now(match):
            sign, amount = match.group(1), match.group(2)
            offset = float(amount) * (1 if sign == "+" else -1) if amount else 0.0
            return utc_timestamp(offset)

        text = re.sub(r"\{now(?:([+-])(\d+))?\}", now, text)

        def var(match):
            name = match.group(1)
            if name not in self.vars:
                self.fail(f"${{{name}}} was never captured")
            return self.vars[name]

        return re.sub(r"\$\{(\w+)\}", var, text)

    def build(self, payload: str) -> bytes:
        fields = []
        for item in split_fields(self.substitute(payload)):
            tag, sep, value = item.partition("=")
            fields.append((tag, value) if sep else (item, None))
        if not fields or fields[0][0] != "8":
            fields.insert(0, ("8", harness.BEGIN_STRING))
        trailer = fields.pop() if fields[-1][0] == "10" else None
        index9 = next((i for i, (t, _) in enumerate(fields) if t == "9"), None)
        if index9 is None:
            fields.insert(1, ("9", "{len}"))
            index9 = 1

        def encode(pairs):
            return b"".join((t if v is None else f"{t}={v}").encode("latin-1") + b"\x01" for t, v in pairs)

        body_len = len(encode(fields[index9 + 1:]))
        value = fields[index9][1] or ""
        match = re.fullmatch(r"\{len(?:([+-])(\d+))?\}", value)
        if match:
            delta = int(match.group(2) or 0) * (1 if match.group(1) == "+" else -1)
            fields[index9] = ("9", str(body_len + delta))
        data = encode(fields)
        if trailer is None:
            data += f"10={harness.checksum(data)}".encode() + b"\x01"
        else:
            data += encode([trailer])
        return data

    def patterns(self, payload: str):
        result = []
        for item in split_fields(payload):
            if item.startswith("!"):
                result.append((item[1:], None))
                continue
            tag, sep, regex = item.partition("=")
            if not sep:
                raise ScenarioSyntaxError(f"pattern without '=': {item!r}")
            regex = regex.replace("{ts}", harness.TIMESTAMP_RE)

            def var(match):
                name = match.group(1)
                if name not in self.vars:
                    self.fail(f"${{{name}}} was never captured")
                return re.escape(self.vars[name])

            regex = re.sub(r"\$\{(\w+)\}", var, regex)
            result.append((tag, re.compile(regex)))
        return result

    @staticmethod
    def mismatches(msg, patterns) -> list[str]:
        problems = []
        for tag, regex in patterns:
            value = msg.get(tag)
            if regex is None:
                if value is not None:
                    problems.append(f"{tag} should be absent but is {value!r}")
            elif value is None:
                problems.append(f"{tag} missing (expected {regex.pattern!r})")
            elif not regex.fullmatch(value):
                problems.append(f"{tag}={value!r} does not match {regex.pattern!r}")
        return problems

    def capture(self, msg, patterns):
        for tag, regex in patterns:
            if regex is not None and regex.groupindex:
                match = regex.fullmatch(msg.get(tag))
                self.vars.update({k: v for k, v in match.groupdict().items() if v is not None})

    def skip_types(self, step) -> set:
        return set(filter(None, step.options.get("skip", "").split(",")))

    def within(self, step, default: float) -> float:
        return float(step.options.get("within", default))

    def receive(self, conn, deadline):
        try:
            return conn.receive(max(0.0, deadline - time.monotonic()))
        except ProtocolViolation as exc:
            self.fail(f"protocol violation by the gateway: {exc}")

    # -- steps

    def run(self):
        self.start_gateway()
        try:
            for step in self.scenario.steps:
                self.step = step
                getattr(self, "do_" + step.verb.replace("-", "_"))(step)
            self.step = None
            if not self.gateway.alive():
                self.fail(f"the gateway process died during the scenario (exit code {self.gateway.proc.returncode})")
        finally:
            for conn in self.conns.values():
                conn.close()
            if self.gateway is not None:
                self.gateway.cleanup()

    def start_gateway(self):
        self.gateway = Gateway(self.transcript)
        self.gateway.start()

    def do_connect(self, step):
        old = self.conns.get(step.conn)
        if old is not None:
            old.close()
        conn = FixConnection(self.gateway.fix_addr, self.transcript, step.conn)
        try:
            conn.connect()
        except OSError as exc:
            self.fail(f"cannot connect: {exc}")
        self.conns[step.conn] = conn

    def do_disconnect(self, step):
        self.conn(step.conn).close()

    def do_send(self, step):
        self._send(step, self.build(step.payload))

    def do_raw(self, step):
        self._send(step, self.substitute(step.payload).replace("|", "\x01").encode("latin-1"))

    def _send(self, step, data):
        try:
            self.conn(step.conn).send_bytes(data)
        except Disconnected as exc:
            self.fail(f"cannot send, the gateway closed the connection: {exc}")

    def do_expect(self, step):
        conn = self.conn(step.conn)
        patterns = self.patterns(step.payload)
        skip = self.skip_types(step)
        timeout = self.within(step, harness.EXPECT_TIMEOUT)
        deadline = time.monotonic() + timeout
        while True:
            try:
                msg = self.receive(conn, deadline)
            except Disconnected:
                self.fail("the gateway closed the connection instead of sending the expected message")
            if msg is None:
                self.fail(f"no message within {timeout:g} s")
            problems = self.mismatches(msg, patterns)
            if not problems:
                self.capture(msg, patterns)
                return
            if msg.msgtype in skip:
                continue
            self.fail("unexpected message:\n    got      " + msg.text() + "\n    problems " + "; ".join(problems))

    def do_maybe(self, step):
        conn = self.conn(step.conn)
        patterns = self.patterns(step.payload)
        deadline = time.monotonic() + self.within(step, DEFAULT_MAYBE_WITHIN)
        try:
            msg = self.receive(conn, deadline)
        except Disconnected:
            return
        if msg is None:
            return
        if self.mismatches(msg, patterns):
            conn.push_back(msg)
        else:
            self.capture(msg, patterns)

    def do_expect_silence(self, step):
        conn = self.conn(step.conn)
        try:
            seconds = float(step.payload)
        except ValueError:
            raise ScenarioSyntaxError(f"line {step.lineno}: expect-silence needs a number of seconds")
        skip = self.skip_types(step)
        deadline = time.monotonic() + seconds
        while True:
            try:
                msg = self.receive(conn, deadline)
            except Disconnected:
                self.fail("the gateway closed the connection")
            if msg is None:
                return
            if msg.msgtype not in skip:
                self.fail("expected no message, got " + msg.text())

    def do_expect_disconnect(self, step):
        conn = self.conn(step.conn)
        skip = self.skip_types(step) | {"5"}
        timeout = self.within(step, DEFAULT_DISCONNECT_WITHIN)
        deadline = time.monotonic() + timeout
        while True:
            try:
                msg = self.receive(conn, deadline)
            except Disconnected:
                return
            if msg is None:
                self.fail(f"the gateway did not close the connection within {timeout:g} s")
            if msg.msgtype not in skip:
                self.fail("expected the gateway to disconnect, got " + msg.text())

    def do_sleep(self, step):
        time.sleep(float(step.payload))

    def do_new_gateway(self, step):
        for conn in self.conns.values():
            conn.close()
        self.conns.clear()
        if not self.gateway.alive():
            self.fail(f"the gateway process died during the scenario (exit code {self.gateway.proc.returncode})")
        self.gateway.cleanup()
        self.start_gateway()

    def do_restart_gateway(self, step):
        if not self.gateway.alive():
            self.fail(f"the gateway process died during the scenario (exit code {self.gateway.proc.returncode})")
        code = self.gateway.stop()
        if code != 0:
            self.fail(f"the gateway should exit 0 on SIGTERM, exit code {code}")
        for conn in self.conns.values():
            conn.close()
        self.conns.clear()
        self.gateway.start()


def run_file(path) -> Transcript:
    scenario = parse(Path(path))
    runner = Runner(scenario)
    runner.run()
    return runner.transcript


def main(argv):
    verbose = "-v" in argv
    paths = [a for a in argv if a != "-v"]
    failed = 0
    for path in paths:
        try:
            transcript = run_file(path)
            print(f"ok    {path}")
            if verbose:
                print(transcript.render())
        except ScenarioFailure as exc:
            failed += 1
            print(f"FAIL  {path}\n{exc}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
