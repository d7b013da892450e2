// QuickFIX interoperability peer for the Chronos FIX 4.4 gateway.
//
// A QuickFIX (C++) initiator with two sessions (QFA and QFB towards CHRONOS) that runs the
// scenarios listed in README.md against a running gateway. QuickFIX's own session layer runs
// (logon, heartbeats, test requests, resend requests, gap fills, logout) and every incoming
// message is validated by QuickFIX against its FIX 4.4 data dictionary. Any Reject (35=3) or
// BusinessMessageReject (35=j) that QuickFIX itself sends back, and any QuickFIX event that is
// not on the list of normal session events, is a failure.
//
// Usage: quickfix-peer <settings file>     (run.sh writes it from peer.cfg.in)
// Exit status: 0 when every check passed, 1 otherwise, 2 on a setup error.

#include <quickfix/Application.h>
#include <quickfix/FileLog.h>
#include <quickfix/FileStore.h>
#include <quickfix/Session.h>
#include <quickfix/SessionSettings.h>
#include <quickfix/SocketInitiator.h>
#include <quickfix/Values.h>
#include <quickfix/fix44/MarketDataRequest.h>
#include <quickfix/fix44/NewOrderSingle.h>
#include <quickfix/fix44/OrderCancelReplaceRequest.h>
#include <quickfix/fix44/OrderCancelRequest.h>
#include <quickfix/fix44/OrderStatusRequest.h>
#include <quickfix/fix44/TestRequest.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

const double kWaitSeconds = 5.0;  // for each expected message
// After one expected message failed to arrive, later waits are short, so that a broken gateway
// fails the run quickly instead of adding kWaitSeconds per remaining check.
double waitSeconds = kWaitSeconds;

std::string printable(std::string s) {
  for (char &c : s)
    if (c == '\x01') c = '|';
  return s;
}

std::string field(const FIX::FieldMap &map, int tag) {
  return map.isSetField(tag) ? map.getField(tag) : std::string();
}

int seqOfRaw(const std::string &raw) {
  auto p = raw.find("\x01" "34=");
  if (p == std::string::npos) return -1;
  return std::atoi(raw.c_str() + p + 4);
}

std::string tagOfRaw(const std::string &raw, const std::string &tag) {
  std::string key = "\x01" + tag + "=";
  auto p = raw.find(key);
  if (p == std::string::npos) return "";
  p += key.size();
  auto e = raw.find('\x01', p);
  return raw.substr(p, e == std::string::npos ? std::string::npos : e - p);
}

// ------------------------------------------------------------------------------------------------
// Results

struct Results {
  std::mutex mutex;
  int passed = 0;
  int failed = 0;
  std::vector<std::string> failures;

  void check(bool ok, const std::string &what, const std::string &detail = "") {
    std::lock_guard<std::mutex> lock(mutex);
    if (ok) {
      ++passed;
      std::cout << "  ok    " << what << "\n";
    } else {
      ++failed;
      std::string line = what + (detail.empty() ? "" : "\n          " + detail);
      failures.push_back(line);
      std::cout << "  FAIL  " << line << "\n";
    }
    std::cout.flush();
  }
};

Results results;

// ------------------------------------------------------------------------------------------------
// Watchdog. Every wait below has its own deadline and reports a failed check when it expires, so
// a run ends long before run.sh's `timeout`. Should the peer nevertheless get stuck (a wait
// without deadline slipped in, initiator.stop() joining a QuickFIX thread that never returns),
// the watchdog fails the run with the step it was in instead of a bare timeout.

const double kWatchdogSeconds = 110;  // below run.sh's PEER_TIMEOUT (120 s)

struct Watchdog {
  std::mutex mutex;
  std::condition_variable cv;
  bool done = false;
  std::string step = "start";
  std::thread thread;

  void at(const std::string &s) {
    std::lock_guard<std::mutex> lock(mutex);
    step = s;
  }
  void start(double seconds) {
    thread = std::thread([this, seconds] {
      std::unique_lock<std::mutex> lock(mutex);
      if (cv.wait_for(lock, std::chrono::milliseconds(long(seconds * 1000)), [this] { return done; })) return;
      // Deliberately touches no other lock (a stuck peer may hold them): report and leave.
      std::cout << "  FAIL  quickfix-peer: no result after " << int(seconds) << " s; stuck in: " << step
                << "\n\nquickfix-peer: watchdog expired (see QuickFIX's logs for the last session events)\n";
      std::cout.flush();
      std::_Exit(1);
    });
  }
  void stop() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      done = true;
    }
    cv.notify_all();
    if (thread.joinable()) thread.join();
  }
};

Watchdog watchdog;

// ------------------------------------------------------------------------------------------------
// What QuickFIX saw: received messages per session, its events, the rejects it sent.
//
// Threads and locks. QuickFIX's initiator thread (one for both sessions: reads, timers,
// heartbeats) calls the Application callbacks and the Log; it calls the Log (onIncoming,
// onOutgoing, onEvent) while holding the session's SessionState mutex, and Session getters such
// as getExpectedTargetNum() take that same mutex. The callbacks here only record into `rec`
// under rec.mutex and notify rec.changed; they never wait. So the lock order is
// QuickFIX's locks -> rec.mutex, and the scenario thread must never call into QuickFIX (Session
// getters, isLoggedOn, send, logout, stop) while it holds rec.mutex -- in particular not from a
// waitFor predicate, which runs under rec.mutex. (Doing so deadlocked scenario 7 on a loaded
// machine: the predicate called getExpectedTargetNum() under rec.mutex while QuickFIX, holding
// A's SessionState mutex, logged "Received SequenceReset" and waited for rec.mutex; the whole
// initiator thread stopped, neither session sent another heartbeat.)

struct Received {
  FIX::Message message;
  std::string raw;
  bool app;
};

struct Event {
  std::string session;
  std::string text;
};

struct Recorder {
  std::mutex mutex;
  std::condition_variable changed;
  std::map<std::string, std::deque<Received>> appQueue;  // application messages not yet consumed
  std::map<std::string, std::vector<Received>> all;      // every message received (admin + app)
  std::map<std::string, std::map<int, std::string>> rawIn;  // raw incoming by MsgSeqNum
  std::map<std::string, std::vector<std::string>> rawOut;   // raw outgoing
  std::vector<Event> events;
  std::vector<std::string> unexpectedEvents;
  std::vector<std::string> rejectsSent;  // 35=3 / 35=j that QuickFIX sent to the gateway
  std::map<std::string, int> logons, logouts;  // onLogon / onLogout calls per session
  // Gap-related events are benign only while the sequence-gap scenario runs (read by onEvent).
  bool gapScenario = false;

  void notify() { changed.notify_all(); }

  // Waits until `pred` holds, at most `seconds`. `pred` runs under `mutex` and may only read the
  // recorded state above (never call into QuickFIX, see above). It is evaluated before the first
  // wait, so something recorded before the call counts (no lost wake-up).
  bool waitFor(const std::string &what, const std::function<bool()> &pred, double seconds) {
    watchdog.at(what);
    auto deadline = Clock::now() + std::chrono::milliseconds(long(seconds * 1000));
    std::unique_lock<std::mutex> lock(mutex);
    return changed.wait_until(lock, deadline, pred);
  }
};

Recorder rec;

std::string sessionName(const FIX::SessionID &id) {
  const std::string &s = id.getSenderCompID().getValue();
  return s == "QFA" ? "A" : s == "QFB" ? "B" : s;
}

// Events QuickFIX logs in a healthy session. Anything else (a Reject, "Invalid message",
// "Timed out waiting for heartbeat", "MsgSeqNum too low", ...) fails the run. Gap-related
// events are allowed only while the sequence-gap scenario runs. Called under rec.mutex.
bool benignEvent(const std::string &e, bool gapScenario) {
  static const char *always[] = {
      "Created session",
      "Connecting to ",
      "Connection succeeded",
      "Initiated logon request",
      "Received logon response",
      "Logon contains ResetSeqNumFlag=Y",
      "Initiated logout request",
      "Received logout response",
      "Disconnecting",
      "Sent test request TEST",  // QuickFIX's own TestRequest after 1.2 x HeartBtInt of silence
  };
  static const char *gap[] = {
      "MsgSeqNum too high, expecting ",
      "Sent ResendRequest FROM: ",
      "Already sent ResendRequest FROM: ",
      "Received SequenceReset FROM: ",
      "Processing QUEUED message: ",
      "ResendRequest for messages FROM: ",
  };
  for (const char *p : always)
    if (e.compare(0, std::strlen(p), p) == 0) return true;
  if (gapScenario)
    for (const char *p : gap)
      if (e.compare(0, std::strlen(p), p) == 0) return true;
  return false;
}

// A Log that writes QuickFIX's usual files (FileLog) and records what passes through it.
class RecordingLog : public FIX::Log {
 public:
  RecordingLog(FIX::Log *inner, std::string session) : m_inner(inner), m_session(std::move(session)) {}
  FIX::Log *inner() { return m_inner; }
  void clear() override { m_inner->clear(); }
  void backup() override { m_inner->backup(); }
  void onIncoming(const std::string &s) override {
    m_inner->onIncoming(s);
    std::lock_guard<std::mutex> lock(rec.mutex);
    rec.rawIn[m_session][seqOfRaw(s)] = s;
  }
  void onOutgoing(const std::string &s) override {
    m_inner->onOutgoing(s);
    std::lock_guard<std::mutex> lock(rec.mutex);
    rec.rawOut[m_session].push_back(s);
  }
  void onEvent(const std::string &s) override {
    m_inner->onEvent(s);
    {
      std::lock_guard<std::mutex> lock(rec.mutex);
      rec.events.push_back({m_session, s});
      if (!m_session.empty() && !benignEvent(s, rec.gapScenario)) {
        std::string line = "session " + m_session + ": QuickFIX event \"" + s + "\"";
        // A rejected message: show it as received.
        auto p = s.find("Message ");
        if (p == 0) {
          int seq = std::atoi(s.c_str() + 8);
          auto &in = rec.rawIn[m_session];
          if (in.count(seq)) line += "\n          received: " + printable(in[seq]);
        }
        rec.unexpectedEvents.push_back(line);
      }
    }
    rec.notify();
  }

 private:
  FIX::Log *m_inner;
  std::string m_session;
};

class RecordingLogFactory : public FIX::LogFactory {
 public:
  explicit RecordingLogFactory(const FIX::SessionSettings &settings) : m_files(settings) {}
  FIX::Log *create() override { return new RecordingLog(m_files.create(), ""); }
  FIX::Log *create(const FIX::SessionID &id) override {
    return new RecordingLog(m_files.create(id), sessionName(id));
  }
  void destroy(FIX::Log *log) override {
    auto *r = static_cast<RecordingLog *>(log);
    m_files.destroy(r->inner());
    delete r;
  }

 private:
  FIX::FileLogFactory m_files;
};

class Peer : public FIX::Application {
 public:
  void onCreate(const FIX::SessionID &) override {}
  void onLogon(const FIX::SessionID &id) override {
    {
      std::lock_guard<std::mutex> lock(rec.mutex);
      rec.logons[sessionName(id)]++;
    }
    rec.notify();
  }
  void onLogout(const FIX::SessionID &id) override {
    {
      std::lock_guard<std::mutex> lock(rec.mutex);
      rec.logouts[sessionName(id)]++;
    }
    rec.notify();
  }
  void toAdmin(FIX::Message &message, const FIX::SessionID &id) override {
    std::string type = field(message.getHeader(), FIX::FIELD::MsgType);
    if (type == "3" || type == "j") {
      std::string refSeq = field(message, FIX::FIELD::RefSeqNum);
      std::string line = "session " + sessionName(id) + ": QuickFIX sent " +
                         (type == "3" ? "Reject" : "BusinessMessageReject") + " 58=\"" +
                         field(message, FIX::FIELD::Text) + "\" 373=" +
                         field(message, FIX::FIELD::SessionRejectReason) + " 371=" +
                         field(message, FIX::FIELD::RefTagID) + " 45=" + refSeq;
      {
        std::lock_guard<std::mutex> lock(rec.mutex);
        auto &in = rec.rawIn[sessionName(id)];
        int seq = std::atoi(refSeq.c_str());
        if (in.count(seq)) line += "\n          for: " + printable(in[seq]);
        rec.rejectsSent.push_back(line);
      }
      rec.notify();
    }
  }
  // QuickFIX 1.15 declares these with dynamic exception specifications (hence -std=gnu++14).
  void toApp(FIX::Message &, const FIX::SessionID &) throw(FIX::DoNotSend) override {}
  void fromAdmin(const FIX::Message &message, const FIX::SessionID &id)
      throw(FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue, FIX::RejectLogon) override {
    store(message, id, false);
  }
  void fromApp(const FIX::Message &message, const FIX::SessionID &id)
      throw(FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue,
            FIX::UnsupportedMessageType) override {
    store(message, id, true);
  }

 private:
  void store(const FIX::Message &message, const FIX::SessionID &id, bool app) {
    {
      std::lock_guard<std::mutex> lock(rec.mutex);
      std::string s = sessionName(id);
      // The gateway rejecting one of QuickFIX's messages, or asking for a resend (QuickFIX never
      // leaves a gap), is an interoperability failure too.
      std::string type = field(message.getHeader(), FIX::FIELD::MsgType);
      if (type == "3" || type == "2")
        rec.unexpectedEvents.push_back("session " + s + ": the gateway sent " +
                                       (type == "3" ? "a Reject: " : "a ResendRequest: ") +
                                       printable(message.toString()));
      Received r{message, message.toString(), app};
      rec.all[s].push_back(r);
      if (app) rec.appQueue[s].push_back(r);
    }
    rec.notify();
  }
};

// ------------------------------------------------------------------------------------------------
// Helpers for the scenarios

FIX::SessionID sidA("FIX.4.4", "QFA", "CHRONOS");
FIX::SessionID sidB("FIX.4.4", "QFB", "CHRONOS");

const FIX::SessionID &sid(const std::string &s) { return s == "A" ? sidA : sidB; }

std::string failuresSoFar() {
  std::lock_guard<std::mutex> lock(rec.mutex);
  std::ostringstream out;
  for (auto &r : rec.rejectsSent) out << r << "\n          ";
  for (auto &e : rec.unexpectedEvents) out << e << "\n          ";
  return out.str();
}

// Next application message received on a session (in arrival order), or nothing after the wait.
bool nextApp(const std::string &s, Received &out, double seconds) {
  auto deadline = Clock::now() + std::chrono::milliseconds(long(seconds * 1000));
  std::unique_lock<std::mutex> lock(rec.mutex);
  if (!rec.changed.wait_until(lock, deadline, [&] { return !rec.appQueue[s].empty(); })) return false;
  out = rec.appQueue[s].front();
  rec.appQueue[s].pop_front();
  return true;
}

bool send(FIX::Message &m, const std::string &s) {
  try {
    return FIX::Session::sendToTarget(m, sid(s));
  } catch (std::exception &e) {
    results.check(false, "send on session " + s, e.what());
    return false;
  }
}

bool numEq(const std::string &a, const std::string &b) {
  if (a.empty() || b.empty()) return false;
  char *ea = nullptr, *eb = nullptr;
  double x = std::strtod(a.c_str(), &ea), y = std::strtod(b.c_str(), &eb);
  return *ea == 0 && *eb == 0 && std::fabs(x - y) < 1e-9;
}

// Fields that must be present with these values. A value starting with '~' is compared as a
// number (quantities and prices may carry trailing zeros), "*" means present with any value,
// a value ending with '*' is a prefix, "-" means absent.
using Expect = std::vector<std::pair<int, std::string>>;

bool fieldsMatch(const FIX::Message &m, const Expect &expect, std::string &why) {
  bool ok = true;
  for (auto &e : expect) {
    const FIX::FieldMap &map =
        (e.first == 8 || e.first == 35 || e.first == 34 || e.first == 43 || e.first == 122 ||
         e.first == 49 || e.first == 56 || e.first == 52)
            ? static_cast<const FIX::FieldMap &>(m.getHeader())
            : static_cast<const FIX::FieldMap &>(m);
    bool set = map.isSetField(e.first);
    std::string v = set ? map.getField(e.first) : "";
    bool good;
    if (e.second == "-")
      good = !set;
    else if (!set)
      good = false;
    else if (e.second == "*")
      good = true;
    else if (e.second[0] == '~')
      good = numEq(v, e.second.substr(1));
    else if (e.second.back() == '*')
      good = v.compare(0, e.second.size() - 1, e.second, 0, e.second.size() - 1) == 0;
    else
      good = v == e.second;
    if (!good) {
      ok = false;
      std::string want = e.second == "-" ? "absent" : e.second[0] == '~' ? e.second.substr(1) : e.second;
      why += " " + std::to_string(e.first) + "=" + (set ? v : "<absent>") + " (want " + want + ")";
    }
  }
  return ok;
}

// Waits for the next application message on a session and checks its fields.
bool expectApp(const std::string &s, const std::string &what, const Expect &expect, FIX::Message *out = nullptr) {
  watchdog.at(what);
  Received r;
  if (!nextApp(s, r, waitSeconds)) {
    results.check(false, what, "nothing received on session " + s + " within " + std::to_string(int(waitSeconds)) +
                                   " s (QuickFIX's verdicts are listed under the scenario)");
    waitSeconds = 1.0;
    return false;
  }
  std::string why;
  bool ok = fieldsMatch(r.message, expect, why);
  results.check(ok, what, ok ? "" : "mismatch:" + why + "\n          got: " + printable(r.raw));
  if (out) *out = r.message;
  return ok;
}

int countAdmin(const std::string &s, const std::string &type, size_t from = 0) {
  std::lock_guard<std::mutex> lock(rec.mutex);
  int n = 0;
  auto &v = rec.all[s];
  for (size_t i = from; i < v.size(); ++i)
    if (!v[i].app && field(v[i].message.getHeader(), FIX::FIELD::MsgType) == type) ++n;
  return n;
}

size_t receivedCount(const std::string &s) {
  std::lock_guard<std::mutex> lock(rec.mutex);
  return rec.all[s].size();
}

int logonCount(const std::string &s) {
  std::lock_guard<std::mutex> lock(rec.mutex);
  return rec.logons[s];
}

int logoutCount(const std::string &s) {
  std::lock_guard<std::mutex> lock(rec.mutex);
  return rec.logouts[s];
}

// Waits for QuickFIX's onLogon on a session beyond `before` calls, then confirms with QuickFIX's
// own state (outside rec.mutex).
bool waitLoggedOn(const std::string &s, FIX::Session *session, int before, double seconds) {
  bool called = rec.waitFor("session " + s + ": waiting for QuickFIX's onLogon",
                            [&] { return rec.logons[s] > before; }, seconds);
  return called && session->isLoggedOn();
}

// Waits until a condition on QuickFIX's own session state holds, at most `seconds`. QuickFIX does
// not tell the application when e.g. its expected target MsgSeqNum changes, and its getters take
// its SessionState mutex, so this polls (every 5 ms) without holding rec.mutex.
bool pollQuickFIX(const std::string &what, const std::function<bool()> &pred, double seconds) {
  watchdog.at(what);
  auto deadline = Clock::now() + std::chrono::milliseconds(long(seconds * 1000));
  for (;;) {
    if (pred()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void setGapScenario(bool on) {
  std::lock_guard<std::mutex> lock(rec.mutex);
  rec.gapScenario = on;
}

void sleepSeconds(double s) { std::this_thread::sleep_for(std::chrono::milliseconds(long(s * 1000))); }

FIX44::NewOrderSingle newOrder(const std::string &clOrdID, const std::string &symbol, char side, double qty,
                               const std::string &price, const std::string &account) {
  FIX44::NewOrderSingle m(FIX::ClOrdID(clOrdID), FIX::Side(side), FIX::TransactTime(),
                          FIX::OrdType(FIX::OrdType_LIMIT));
  m.set(FIX::Symbol(symbol));
  m.set(FIX::OrderQty(qty));
  // The price as text, so that 150.255 goes on the wire as written.
  m.setField(FIX::FIELD::Price, price);
  m.set(FIX::TimeInForce(FIX::TimeInForce_DAY));
  m.set(FIX::Account(account));
  return m;
}

// Checks QuickFIX's own verdicts since the last call: no Reject sent, no unexpected event.
size_t rejectsSeen = 0, eventsSeen = 0;
void checkQuickFIXVerdict(const std::string &what) {
  std::vector<std::string> bad;
  {
    std::lock_guard<std::mutex> lock(rec.mutex);
    for (size_t i = rejectsSeen; i < rec.rejectsSent.size(); ++i) bad.push_back(rec.rejectsSent[i]);
    for (size_t i = eventsSeen; i < rec.unexpectedEvents.size(); ++i) bad.push_back(rec.unexpectedEvents[i]);
    rejectsSeen = rec.rejectsSent.size();
    eventsSeen = rec.unexpectedEvents.size();
  }
  std::string detail;
  for (auto &b : bad) detail += (detail.empty() ? "" : "\n          ") + b;
  results.check(bad.empty(), what + ": QuickFIX validated every message (no Reject sent, no error event)", detail);
}

std::string loadFile(const std::string &path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A received message (admin or app) by session and MsgType, the last one.
bool lastReceived(const std::string &s, const std::string &type, FIX::Message &out) {
  std::lock_guard<std::mutex> lock(rec.mutex);
  auto &v = rec.all[s];
  for (auto it = v.rbegin(); it != v.rend(); ++it)
    if (field(it->message.getHeader(), FIX::FIELD::MsgType) == type) {
      out = it->message;
      return true;
    }
  return false;
}

// No application message arrived that no scenario expected.
void checkNothingUnexpected(const std::string &phase) {
  watchdog.at(phase + ": checking for unexpected application messages");
  sleepSeconds(0.3);
  std::string detail;
  {
    std::lock_guard<std::mutex> lock(rec.mutex);
    for (auto &q : rec.appQueue)
      for (auto &r : q.second) detail += "\n          session " + q.first + ": " + printable(r.raw);
  }
  results.check(detail.empty(), phase + ": no unexpected application message", detail.empty() ? "" : detail.substr(11));
}

// Logs both sessions out from the initiator side and checks the gateway's answer.
void logoutAndCheck(FIX::Initiator &initiator, const std::string &phase) {
  checkNothingUnexpected(phase);
  std::cout << "Scenario 8 (" << phase << "): Logout from the initiator\n";
  std::map<std::string, size_t> before;
  std::map<std::string, int> logoutsBefore;
  for (const std::string s : {"A", "B"}) {
    before[s] = receivedCount(s);
    logoutsBefore[s] = logoutCount(s);
  }
  size_t eventsBefore;
  {
    std::lock_guard<std::mutex> lock(rec.mutex);
    eventsBefore = rec.events.size();
  }
  for (const std::string s : {"A", "B"}) FIX::Session::lookupSession(sid(s))->logout("peer done");
  for (const std::string s : {"A", "B"}) {
    FIX::Session *session = FIX::Session::lookupSession(sid(s));
    // QuickFIX calls onLogout after it has cleared its logged-on state.
    bool loggedOut = rec.waitFor("session " + s + " (" + phase + "): waiting for QuickFIX's onLogout",
                                 [&] { return rec.logouts[s] > logoutsBefore[s]; }, 8) &&
                     !session->isLoggedOn();
    int logoutsIn = countAdmin(s, "5", before[s]);
    bool sawResponse = false, sawTimeout = false;
    {
      std::lock_guard<std::mutex> lock(rec.mutex);
      for (size_t i = eventsBefore; i < rec.events.size(); ++i)
        if (rec.events[i].session == s) {
          const Event &e = rec.events[i];
          if (e.text.rfind("Received logout response", 0) == 0) sawResponse = true;
          if (e.text.rfind("Timed out waiting for logout response", 0) == 0) sawTimeout = true;
        }
    }
    results.check(loggedOut && logoutsIn == 1 && sawResponse && !sawTimeout,
                  "session " + s + ": gateway answered our Logout with a Logout; QuickFIX logged \"Received logout response\"",
                  "logged out=" + std::to_string(loggedOut) + ", Logouts received=" + std::to_string(logoutsIn) +
                      ", response event=" + std::to_string(sawResponse) + ", timeout event=" + std::to_string(sawTimeout));
  }
  checkQuickFIXVerdict("logout (" + phase + ")");
  watchdog.at(phase + ": initiator.stop()");
  initiator.stop();
}

// ------------------------------------------------------------------------------------------------

struct PhaseOneRecord {
  // Application messages received on A in phase 1: MsgSeqNum -> (ExecID, SendingTime)
  std::map<int, std::pair<std::string, std::string>> appA;
  int firstReportSeqA = 0;
  int nextSenderA = 0, nextTargetA = 0, nextSenderB = 0, nextTargetB = 0;
};

int runPhaseOne(const std::string &settingsText, PhaseOneRecord &p1) {
  std::istringstream in(settingsText);
  FIX::SessionSettings settings(in);
  Peer app;
  FIX::FileStoreFactory store(settings);
  RecordingLogFactory logs(settings);
  FIX::SocketInitiator initiator(app, store, settings, logs);
  int logonsA = logonCount("A"), logonsB = logonCount("B");
  initiator.start();

  FIX::Session *a = FIX::Session::lookupSession(sidA);
  FIX::Session *b = FIX::Session::lookupSession(sidB);

  // ---- Scenario 1: logon, heartbeats at HeartBtInt=1
  std::cout << "Scenario 1: Logon of both sessions, heartbeats at HeartBtInt=1\n";
  bool upA = waitLoggedOn("A", a, logonsA, 15), upB = waitLoggedOn("B", b, logonsB, 15);
  results.check(upA && upB, "both sessions logged on",
                "A=" + std::to_string(upA) + " B=" + std::to_string(upB) + "\n          " + failuresSoFar());
  if (!(upA && upB)) {
    initiator.stop(true);
    return 1;
  }
  for (const std::string s : {"A", "B"}) {
    FIX::Message logon;
    bool got = lastReceived(s, "A", logon);
    std::string why;
    bool ok = got && fieldsMatch(logon, {{34, "1"}, {98, "0"}, {108, "1"}, {141, "Y"}}, why);
    results.check(ok, "session " + s + ": gateway Logon answers ResetSeqNumFlag=Y with 34=1 98=0 108=1 141=Y",
                  got ? why + "\n          got: " + printable(logon.toString()) : "no Logon");
  }
  size_t startA = receivedCount("A"), startB = receivedCount("B");
  watchdog.at("scenario 1: 3.5 s idle");
  sleepSeconds(3.5);
  int hbA = countAdmin("A", "0", startA), hbB = countAdmin("B", "0", startB);
  results.check(hbA >= 2 && hbB >= 2 && a->isLoggedOn() && b->isLoggedOn(),
                "3.5 s idle: the gateway sent heartbeats on both sessions and QuickFIX stayed logged on",
                "heartbeats A=" + std::to_string(hbA) + " B=" + std::to_string(hbB));
  {
    FIX44::TestRequest tr(FIX::TestReqID("PEER-TR-1"));
    size_t from = receivedCount("A");
    send(tr, "A");
    bool answered = rec.waitFor(
        "session A: waiting for the Heartbeat 112=PEER-TR-1",
        [&] {
          auto &v = rec.all["A"];
          for (size_t i = from; i < v.size(); ++i)
            if (field(v[i].message.getHeader(), FIX::FIELD::MsgType) == "0" &&
                field(v[i].message, FIX::FIELD::TestReqID) == "PEER-TR-1")
              return true;
          return false;
        },
        kWaitSeconds);
    results.check(answered, "session A: TestRequest 112=PEER-TR-1 answered by Heartbeat 112=PEER-TR-1");
  }
  checkQuickFIXVerdict("scenario 1");

  // ---- Scenario 2: resting sell, crossing buy
  std::cout << "Scenario 2: NewOrderSingle sell 100 AAPL @ 150.25 (A), buy 40 @ 150.30 (B)\n";
  FIX::Message newA, newB, fillB, fillA;
  {
    auto m = newOrder("QF-A1", "AAPL", FIX::Side_SELL, 100, "150.25", "1");
    send(m, "A");
  }
  expectApp("A", "A: ExecutionReport New for QF-A1",
            {{35, "8"}, {150, "0"}, {39, "0"}, {11, "QF-A1"}, {37, "*"}, {17, "*"}, {1, "1"}, {55, "AAPL"},
             {54, "2"}, {38, "~100"}, {40, "2"}, {44, "~150.25"}, {151, "~100"}, {14, "~0"}, {6, "~0"}, {60, "*"}},
            &newA);
  {
    auto m = newOrder("QF-B1", "AAPL", FIX::Side_BUY, 40, "150.30", "2");
    send(m, "B");
  }
  expectApp("B", "B: ExecutionReport New for QF-B1",
            {{35, "8"}, {150, "0"}, {39, "0"}, {11, "QF-B1"}, {37, "*"}, {17, "*"}, {1, "2"}, {55, "AAPL"},
             {54, "1"}, {38, "~40"}, {40, "2"}, {44, "~150.30"}, {151, "~40"}, {14, "~0"}, {6, "~0"}},
            &newB);
  expectApp("B", "B: ExecutionReport Trade (150=F 39=2) 40 @ 150.25",
            {{35, "8"}, {150, "F"}, {39, "2"}, {11, "QF-B1"}, {37, field(newB, 37)}, {17, "*"}, {55, "AAPL"},
             {54, "1"}, {31, "~150.25"}, {32, "~40"}, {14, "~40"}, {151, "~0"}, {6, "~150.25"}},
            &fillB);
  expectApp("A", "A: ExecutionReport Trade (150=F 39=1) 40 @ 150.25, 60 left",
            {{35, "8"}, {150, "F"}, {39, "1"}, {11, "QF-A1"}, {37, field(newA, 37)}, {17, "*"}, {55, "AAPL"},
             {54, "2"}, {31, "~150.25"}, {32, "~40"}, {14, "~40"}, {151, "~60"}, {6, "~150.25"}},
            &fillA);
  {
    std::set<std::string> ids{field(newA, 17), field(newB, 17), field(fillA, 17), field(fillB, 17)};
    results.check(ids.size() == 4 && !ids.count(""), "ExecIDs of the four reports are distinct");
    results.check(!field(newA, 37).empty() && field(newA, 37) != field(newB, 37), "OrderIDs of A and B differ");
  }
  checkQuickFIXVerdict("scenario 2");

  // ---- Scenario 3: replace, then cancel
  std::cout << "Scenario 3: OrderCancelReplaceRequest then OrderCancelRequest (A)\n";
  {
    FIX44::OrderCancelReplaceRequest m(FIX::OrigClOrdID("QF-A1"), FIX::ClOrdID("QF-A2"), FIX::Side(FIX::Side_SELL),
                                       FIX::TransactTime(), FIX::OrdType(FIX::OrdType_LIMIT));
    m.set(FIX::Symbol("AAPL"));
    m.set(FIX::OrderQty(80));
    m.setField(FIX::FIELD::Price, "150.26");
    m.set(FIX::TimeInForce(FIX::TimeInForce_DAY));
    m.set(FIX::Account("1"));
    send(m, "A");
  }
  expectApp("A", "A: ExecutionReport Replaced (150=5 39=1) qty 80 @ 150.26, 40 left",
            {{35, "8"}, {150, "5"}, {39, "1"}, {11, "QF-A2"}, {41, "QF-A1"}, {37, field(newA, 37)}, {17, "*"},
             {55, "AAPL"}, {54, "2"}, {38, "~80"}, {44, "~150.26"}, {14, "~40"}, {151, "~40"}, {6, "~150.25"}});
  {
    FIX44::OrderCancelRequest m(FIX::OrigClOrdID("QF-A2"), FIX::ClOrdID("QF-A3"), FIX::Side(FIX::Side_SELL),
                                FIX::TransactTime());
    m.set(FIX::Symbol("AAPL"));
    m.set(FIX::OrderQty(80));
    m.set(FIX::Account("1"));
    send(m, "A");
  }
  expectApp("A", "A: ExecutionReport Canceled (150=4 39=4)",
            {{35, "8"}, {150, "4"}, {39, "4"}, {11, "QF-A3"}, {41, "QF-A2"}, {37, field(newA, 37)}, {17, "*"},
             {55, "AAPL"}, {54, "2"}, {14, "~40"}, {151, "~0"}});
  checkQuickFIXVerdict("scenario 3");

  // ---- Scenario 4: cancel of an unknown order
  std::cout << "Scenario 4: OrderCancelRequest for an unknown ClOrdID (A)\n";
  {
    FIX44::OrderCancelRequest m(FIX::OrigClOrdID("QF-NOPE"), FIX::ClOrdID("QF-A4"), FIX::Side(FIX::Side_SELL),
                                FIX::TransactTime());
    m.set(FIX::Symbol("AAPL"));
    m.set(FIX::OrderQty(10));
    send(m, "A");
  }
  expectApp("A", "A: OrderCancelReject (35=9) 434=1 for the unknown order",
            {{35, "9"}, {434, "1"}, {11, "QF-A4"}, {41, "QF-NOPE"}, {37, "*"}, {39, "*"}});
  checkQuickFIXVerdict("scenario 4");

  // ---- Scenario 5: rejected orders
  std::cout << "Scenario 5: NewOrderSingle off tick (150.255) and for an unknown symbol (A)\n";
  {
    auto m = newOrder("QF-A5", "AAPL", FIX::Side_SELL, 10, "150.255", "1");
    send(m, "A");
  }
  expectApp("A", "A: ExecutionReport Rejected (150=8 39=8) for price 150.255, Text invalid_price",
            {{35, "8"}, {150, "8"}, {39, "8"}, {11, "QF-A5"}, {103, "*"}, {58, "invalid_price*"}, {55, "AAPL"},
             {151, "~0"}, {14, "~0"}});
  {
    auto m = newOrder("QF-A6", "ZZZZ", FIX::Side_SELL, 10, "10.00", "1");
    send(m, "A");
  }
  expectApp("A", "A: ExecutionReport Rejected (150=8 39=8 103=1) for unknown symbol ZZZZ",
            {{35, "8"}, {150, "8"}, {39, "8"}, {11, "QF-A6"}, {103, "1"}, {58, "*"}, {55, "ZZZZ"}});
  checkQuickFIXVerdict("scenario 5");

  // ---- Scenario 6: unsupported application message
  std::cout << "Scenario 6: MarketDataRequest (A)\n";
  {
    FIX44::MarketDataRequest m(FIX::MDReqID("QF-MD1"),
                               FIX::SubscriptionRequestType(FIX::SubscriptionRequestType_SNAPSHOT),
                               FIX::MarketDepth(1));
    FIX44::MarketDataRequest::NoMDEntryTypes types;
    types.set(FIX::MDEntryType(FIX::MDEntryType_BID));
    m.addGroup(types);
    FIX44::MarketDataRequest::NoRelatedSym sym;
    sym.set(FIX::Symbol("AAPL"));
    m.addGroup(sym);
    send(m, "A");
    std::string sentSeq;
    {
      std::lock_guard<std::mutex> lock(rec.mutex);
      for (auto &raw : rec.rawOut["A"])
        if (tagOfRaw(raw, "35") == "V") sentSeq = tagOfRaw(raw, "34");
    }
    expectApp("A", "A: BusinessMessageReject (35=j) 380=3 372=V 45=<our MsgSeqNum>",
              {{35, "j"}, {380, "3"}, {372, "V"}, {45, sentSeq}});
  }
  {
    // FIX 4.4: BusinessRejectRefID is "required unless the corresponding ID field was not
    // specified"; for a MarketDataRequest that is MDReqID (262).
    FIX::Message j;
    bool got = lastReceived("A", "j", j);
    results.check(got && field(j, FIX::FIELD::BusinessRejectRefID) == "QF-MD1",
                  "A: BusinessMessageReject carries BusinessRejectRefID 379=QF-MD1 (the MDReqID)",
                  got ? "got: " + printable(j.toString()) : "no 35=j");
  }
  checkQuickFIXVerdict("scenario 6");

  // ---- Scenario 6b: an FOK that cannot fill, and OrderStatusRequest (the book is empty now)
  std::cout << "Scenario 6b: unfillable FOK, OrderStatusRequest for a known and an unknown order (A)\n";
  {
    auto m = newOrder("QF-FOK1", "AAPL", FIX::Side_BUY, 10, "150.25", "1");
    m.set(FIX::TimeInForce(FIX::TimeInForce_FILL_OR_KILL));
    send(m, "A");
  }
  expectApp("A", "A: ExecutionReport New (150=0 39=0) for the FOK QF-FOK1",
            {{35, "8"}, {150, "0"}, {39, "0"}, {11, "QF-FOK1"}, {59, "4"}, {151, "~10"}, {14, "~0"}});
  expectApp("A", "A: then ExecutionReport Canceled (150=4 39=4) for QF-FOK1, Text fok_unfillable",
            {{35, "8"}, {150, "4"}, {39, "4"}, {11, "QF-FOK1"}, {151, "~0"}, {14, "~0"}, {58, "fok_unfillable*"}});
  {
    FIX44::OrderStatusRequest m(FIX::ClOrdID("QF-A3"), FIX::Side(FIX::Side_SELL));
    m.set(FIX::Symbol("AAPL"));
    m.set(FIX::OrdStatusReqID("QF-S1"));
    send(m, "A");
  }
  expectApp("A", "A: OrderStatusRequest for QF-A3 -> ExecutionReport 150=I 39=4 with its quantities, 790 echoed",
            {{35, "8"}, {150, "I"}, {39, "4"}, {11, "QF-A3"}, {37, field(newA, 37)}, {790, "QF-S1"}, {14, "~40"},
             {151, "~0"}, {6, "~150.25"}});
  {
    FIX44::OrderStatusRequest m(FIX::ClOrdID("QF-NOPE2"), FIX::Side(FIX::Side_BUY));
    m.set(FIX::Symbol("AAPL"));
    send(m, "A");
  }
  expectApp("A", "A: OrderStatusRequest for an unknown order -> ExecutionReport 150=I 39=8 with Text",
            {{35, "8"}, {150, "I"}, {39, "8"}, {11, "QF-NOPE2"}, {58, "unknown_order*"}, {790, "-"}});
  checkQuickFIXVerdict("scenario 6b");

  // Record A's execution reports of this phase for the resend check.
  {
    std::lock_guard<std::mutex> lock(rec.mutex);
    for (auto &r : rec.all["A"]) {
      if (!r.app) continue;
      int seq = std::atoi(field(r.message.getHeader(), FIX::FIELD::MsgSeqNum).c_str());
      p1.appA[seq] = {field(r.message, FIX::FIELD::ExecID), field(r.message.getHeader(), FIX::FIELD::SendingTime)};
    }
  }
  p1.firstReportSeqA = p1.appA.empty() ? 0 : p1.appA.begin()->first;

  logoutAndCheck(initiator, "first connection");
  p1.nextSenderA = a->getExpectedSenderNum();
  p1.nextTargetA = a->getExpectedTargetNum();
  p1.nextSenderB = b->getExpectedSenderNum();
  p1.nextTargetB = b->getExpectedTargetNum();
  return 0;
}

void runPhaseTwo(const std::string &settingsText, const PhaseOneRecord &p1) {
  std::cout << "Scenario 7: restart with ResetOnLogon=N and the FileStore; gap on A -> ResendRequest\n";
  std::string text = settingsText;
  auto pos = text.find("ResetOnLogon=Y");
  if (pos == std::string::npos) {
    results.check(false, "settings contain ResetOnLogon=Y (template)");
    return;
  }
  text.replace(pos, 14, "ResetOnLogon=N");
  std::istringstream in(text);
  FIX::SessionSettings settings(in);
  Peer app;
  FIX::FileStoreFactory store(settings);
  RecordingLogFactory logs(settings);
  FIX::SocketInitiator initiator(app, store, settings, logs);

  FIX::Session *a = FIX::Session::lookupSession(sidA);
  FIX::Session *b = FIX::Session::lookupSession(sidB);
  results.check(a->getExpectedSenderNum() == p1.nextSenderA && a->getExpectedTargetNum() == p1.nextTargetA &&
                    b->getExpectedSenderNum() == p1.nextSenderB && b->getExpectedTargetNum() == p1.nextTargetB,
                "QuickFIX's FileStore kept both sessions' sequence numbers",
                "A " + std::to_string(a->getExpectedSenderNum()) + "/" + std::to_string(a->getExpectedTargetNum()) +
                    " vs " + std::to_string(p1.nextSenderA) + "/" + std::to_string(p1.nextTargetA));
  if (p1.firstReportSeqA <= 0) {
    results.check(false, "phase 1 recorded execution reports on A");
    return;
  }
  const int gapFrom = p1.firstReportSeqA;
  a->setNextTargetMsgSeqNum(gapFrom);  // QuickFIX now believes it missed gapFrom .. nextTargetA-1
  std::map<std::string, size_t> outBefore;
  size_t eventsBefore;
  int logonsA, logonsB;
  {
    std::lock_guard<std::mutex> lock(rec.mutex);
    rec.appQueue.clear();
    rec.all.clear();
    outBefore["A"] = rec.rawOut["A"].size();
    outBefore["B"] = rec.rawOut["B"].size();
    eventsBefore = rec.events.size();
    logonsA = rec.logons["A"];
    logonsB = rec.logons["B"];
    rec.gapScenario = true;
  }
  initiator.start();

  bool upA = waitLoggedOn("A", a, logonsA, 15), upB = waitLoggedOn("B", b, logonsB, 15);
  results.check(upA && upB, "both sessions logged on again", failuresSoFar());
  if (!(upA && upB)) {
    initiator.stop(true);
    return;
  }
  // Our Logons continued the sequence, without ResetSeqNumFlag; the gateway's too.
  for (const std::string s : {"A", "B"}) {
    std::string logonOut;
    {
      std::lock_guard<std::mutex> lock(rec.mutex);
      auto &v = rec.rawOut[s];
      for (size_t i = outBefore[s]; i < v.size(); ++i)
        if (tagOfRaw(v[i], "35") == "A") {
          logonOut = v[i];
          break;
        }
    }
    int expectSeq = s == "A" ? p1.nextSenderA : p1.nextSenderB;
    results.check(seqOfRaw(logonOut) == expectSeq && tagOfRaw(logonOut, "141") != "Y",
                  "session " + s + ": QuickFIX's Logon resumed at 34=" + std::to_string(expectSeq) + " without 141=Y",
                  "sent: " + printable(logonOut));
    FIX::Message logonIn;
    bool got = lastReceived(s, "A", logonIn);
    int expectIn = s == "A" ? p1.nextTargetA : p1.nextTargetB;
    results.check(got && field(logonIn.getHeader(), 34) == std::to_string(expectIn) && field(logonIn, 141) != "Y",
                  "session " + s + ": gateway's Logon resumed at 34=" + std::to_string(expectIn) + " without 141=Y",
                  got ? "got: " + printable(logonIn.toString()) : "no Logon received");
  }
  // The gap on A: QuickFIX sends ResendRequest(gapFrom, 0) and must accept what comes back.
  bool satisfied = rec.waitFor(
      "session A: waiting for QuickFIX's \"ResendRequest ... has been satisfied\" event",
      [&] {
        for (size_t i = eventsBefore; i < rec.events.size(); ++i) {
          const Event &e = rec.events[i];
          if (e.session == "A" && e.text.rfind("ResendRequest for messages FROM: ", 0) == 0) return true;
        }
        return false;
      },
      kWaitSeconds * 2);
  std::string resendSent;
  {
    std::lock_guard<std::mutex> lock(rec.mutex);
    auto &v = rec.rawOut["A"];
    for (size_t i = outBefore["A"]; i < v.size(); ++i)
      if (tagOfRaw(v[i], "35") == "2") resendSent = v[i];
  }
  results.check(tagOfRaw(resendSent, "7") == std::to_string(gapFrom),
                "A: QuickFIX sent ResendRequest 7=" + std::to_string(gapFrom), "sent: " + printable(resendSent));
  // Expected target after the gap is filled: everything up to the gateway's Logon, plus the Logon.
  // QuickFIX's own counter: polled, never read under rec.mutex (see Recorder).
  bool caughtUp = pollQuickFIX("session A: waiting for QuickFIX to expect 34=" + std::to_string(p1.nextTargetA + 1),
                               [&] { return a->getExpectedTargetNum() >= p1.nextTargetA + 1; }, kWaitSeconds);
  results.check(satisfied && caughtUp,
                "A: QuickFIX reports the ResendRequest satisfied and expects 34=" + std::to_string(p1.nextTargetA + 1) +
                    " next",
                "satisfied event=" + std::to_string(satisfied) + ", expected target=" +
                    std::to_string(a->getExpectedTargetNum()) + "\n          " + failuresSoFar());
  watchdog.at("scenario 7: checking the resent messages");
  sleepSeconds(0.3);
  // Resent application messages: the same ExecutionReports, 43=Y, 122 = original SendingTime.
  std::map<int, Received> resent;
  int gapFills = 0;
  {
    std::lock_guard<std::mutex> lock(rec.mutex);
    for (auto &r : rec.all["A"]) {
      const auto &h = r.message.getHeader();
      int seq = std::atoi(field(h, 34).c_str());
      if (r.app && field(h, 43) == "Y") resent[seq] = r;
      if (field(h, 35) == "4" && field(r.message, 123) == "Y") gapFills++;
    }
    rec.appQueue["A"].clear();
  }
  std::vector<std::string> problems;
  for (auto &orig : p1.appA) {
    if (orig.first < gapFrom) continue;
    auto it = resent.find(orig.first);
    if (it == resent.end()) {
      problems.push_back("34=" + std::to_string(orig.first) + " (ExecID " + orig.second.first + ") not resent");
      continue;
    }
    const auto &m = it->second.message;
    if (field(m, 17) != orig.second.first)
      problems.push_back("34=" + std::to_string(orig.first) + " resent with ExecID " + field(m, 17) + " instead of " +
                         orig.second.first);
    if (field(m.getHeader(), 122) != orig.second.second)
      problems.push_back("34=" + std::to_string(orig.first) + " OrigSendingTime " + field(m.getHeader(), 122) +
                         " != original SendingTime " + orig.second.second + ": " + printable(it->second.raw));
  }
  for (auto &r : resent)
    if (!p1.appA.count(r.first))
      problems.push_back("unexpected resent application message " + printable(r.second.raw));
  std::string detail;
  for (auto &p : problems) detail += (detail.empty() ? "" : "\n          ") + p;
  results.check(problems.empty() && !resent.empty(),
                "A: the " + std::to_string(resent.size()) +
                    " resent ExecutionReports (43=Y) are the originals, with 122 = original SendingTime",
                detail);
  results.check(gapFills >= 1, "A: administrative messages in the gap came as SequenceReset-GapFill (123=Y)",
                "gap fills received: " + std::to_string(gapFills));
  checkQuickFIXVerdict("scenario 7 (resend)");
  setGapScenario(false);

  // The sessions trade after the resend: a fresh order on A, canceled, on the resumed sequence.
  {
    auto m = newOrder("QF-A7", "MSFT", FIX::Side_BUY, 5, "10.00", "1");
    send(m, "A");
  }
  FIX::Message n;
  expectApp("A", "A: after the resend, a new order gets ExecutionReport New (not a duplicate)",
            {{35, "8"}, {150, "0"}, {39, "0"}, {11, "QF-A7"}, {43, "-"}}, &n);
  {
    FIX44::OrderCancelRequest m(FIX::OrigClOrdID("QF-A7"), FIX::ClOrdID("QF-A8"), FIX::Side(FIX::Side_BUY),
                                FIX::TransactTime());
    m.set(FIX::Symbol("MSFT"));
    m.set(FIX::OrderQty(5));
    send(m, "A");
  }
  expectApp("A", "A: and its cancel gets ExecutionReport Canceled", {{35, "8"}, {150, "4"}, {39, "4"}, {11, "QF-A8"}});
  {
    auto m = newOrder("QF-B2", "GOOG", FIX::Side_SELL, 3, "99.99", "2");
    send(m, "B");
  }
  expectApp("B", "B: after the restart, a new order gets ExecutionReport New",
            {{35, "8"}, {150, "0"}, {39, "0"}, {11, "QF-B2"}});
  checkQuickFIXVerdict("scenario 7 (after resend)");
  logoutAndCheck(initiator, "second connection");
}

}  // namespace

int main(int argc, char **argv) {
  if (argc != 2) {
    std::cerr << "usage: quickfix-peer <settings file>\n";
    return 2;
  }
  std::string settingsText = loadFile(argv[1]);
  if (settingsText.empty()) {
    std::cerr << "quickfix-peer: cannot read " << argv[1] << "\n";
    return 2;
  }
  watchdog.start(kWatchdogSeconds);
  try {
    PhaseOneRecord p1;
    if (runPhaseOne(settingsText, p1) == 0) runPhaseTwo(settingsText, p1);
  } catch (std::exception &e) {
    results.check(false, "QuickFIX peer ran without exception", e.what());
  }
  watchdog.stop();
  // Anything QuickFIX objected to that no scenario check has reported yet.
  checkQuickFIXVerdict("whole run");
  std::cout << "\nquickfix-peer: " << results.passed << " passed, " << results.failed << " failed\n";
  if (results.failed) {
    std::cout << "Failures:\n";
    for (auto &f : results.failures) std::cout << "  - " << f << "\n";
  }
  std::cout.flush();
  return results.failed ? 1 : 0;
}
