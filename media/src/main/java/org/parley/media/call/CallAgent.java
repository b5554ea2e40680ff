package org.parley.media.call;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.random.RandomGenerator;
import org.parley.protocol.CallReason;
import org.parley.protocol.Frame;
import org.parley.protocol.Limits;

/**
 * The calls of one device. A call to a user invites every online device of that user; each answers
 * {@link Frame.CallRinging}; the first {@link Frame.CallAnswer} the caller processes wins and the caller tells every
 * invited device with {@link Frame.CallSelect}: the named device connects, the others stop ringing with
 * {@link CallReason#ANSWERED_ELSEWHERE}. A device takes one call at a time and answers further invites with
 * {@link CallReason#BUSY}. Not thread-safe: one owner thread (the daemon's worker). No I/O: every method returns the
 * effects the owner must carry out, in order.
 */
public final class CallAgent {
    /**
     * Timing of calls.
     *
     * @param ringTimeout   how long the caller lets devices ring before giving up with no_answer (default 45 s)
     * @param ringingWithin how long the caller waits for the first device to say it rings before giving up with
     *                      unreachable (default 5 s)
     * @param selectWithin  how long an answering device waits for the caller's selection before failing (default 10 s)
     * @param keepEnded     ended calls kept for the report and to recognise late frames (default 200)
     */
    public record Config(Duration ringTimeout, Duration ringingWithin, Duration selectWithin, int keepEnded) {
        public Config {
            if (ringTimeout == null) ringTimeout = Duration.ofSeconds(45);
            if (ringingWithin == null) ringingWithin = Duration.ofSeconds(5);
            if (selectWithin == null) selectWithin = Duration.ofSeconds(10);
            if (keepEnded <= 0) keepEnded = 200;
            if (ringTimeout.isNegative() || ringTimeout.isZero()) throw new IllegalArgumentException("ring timeout must be positive");
            if (ringingWithin.compareTo(ringTimeout) > 0) throw new IllegalArgumentException("ringing-within exceeds the ring timeout");
            if (selectWithin.isNegative() || selectWithin.isZero()) throw new IllegalArgumentException("select-within must be positive");
        }

        public static Config defaults() {
            return new Config(null, null, null, 0);
        }
    }

    public enum Direction { OUTGOING, INCOMING }

    /**
     * DIALING: invites sent, no device rings yet. RINGING: at least one device rings (incoming: this device rings).
     * ANSWERING: this device answered and waits for the caller's selection. CONNECTED: media flows. ENDED: see reason.
     */
    public enum State { DIALING, RINGING, ANSWERING, CONNECTED, ENDED }

    /**
     * A call as this device sees it. {@code peerDevice} is the other end once connected (for an incoming call: the
     * caller's device from the start); {@code endedBy} is "local" or "remote"; times are epoch millis, 0 if not yet.
     */
    public record Call(String id, Direction direction, String peerUser, String peerDevice, State state, CallReason reason,
                       String endedBy, boolean lowBandwidth, int devicesInvited, long startedAt, long ringingAt,
                       long connectedAt, long endedAt) {
        public boolean active() {
            return state != State.ENDED;
        }
    }

    /** What the owner must do. */
    public sealed interface Effect {
        /** Send a signalling frame to a device (over the peer session, else sealed through the supernode). */
        record Send(String toDevice, Frame frame) implements Effect {}

        /** Start ringing for an incoming call. */
        record Ring(String callId, String fromUser) implements Effect {}

        /** Stop ringing (answered here or elsewhere, cancelled, rejected). */
        record StopRinging(String callId) implements Effect {}

        /** Start sending and playing media with this device. */
        record StartMedia(String callId, String peerDevice, boolean lowBandwidth) implements Effect {}

        /** Stop media of this call. */
        record StopMedia(String callId) implements Effect {}

        /** The call changed (a snapshot). */
        record Changed(Call call) implements Effect {}
    }

    /** The call {@link #dial} started, with the effects to carry out. */
    public record Dialed(String callId, List<Effect> effects) {}

    /** A command that names no known call, or a call in a state that does not allow it. */
    public static final class CallException extends RuntimeException {
        public CallException(String message) {
            super(message, null, false, false);
        }
    }

    public static final String CODEC = "opus/48000/1";

    private final String myUser;
    private final String myDevice;
    private final Config config;
    private final Clock clock;
    private final RandomGenerator random;
    private final Map<String, C> calls = new LinkedHashMap<>();

    private static final class C {
        final byte[] id;
        final String hex;
        final Direction dir;
        final String peerUser;
        final boolean lowBandwidth;
        final long started;
        State state;
        CallReason reason;
        String endedBy;
        long ringingAt, connectedAt, endedAt;
        // outgoing
        final Set<String> invited = new LinkedHashSet<>();
        final Map<String, CallReason> rejected = new LinkedHashMap<>();
        String selected;
        // incoming
        String callerDevice;
        long answeredAt;

        C(byte[] id, Direction dir, String peerUser, boolean lowBandwidth, long started) {
            this.id = id;
            this.hex = HexFormat.of().formatHex(id);
            this.dir = dir;
            this.peerUser = peerUser;
            this.lowBandwidth = lowBandwidth;
            this.started = started;
        }

        Call snapshot() {
            String peer = dir == Direction.INCOMING ? callerDevice : selected;
            return new Call(hex, dir, peerUser, peer, state, reason, endedBy, lowBandwidth, invited.size(), started,
                    ringingAt, connectedAt, endedAt);
        }
    }

    public CallAgent(String myUser, String myDevice, Config config, Clock clock, RandomGenerator random) {
        this.myUser = myUser;
        this.myDevice = myDevice;
        this.config = config;
        this.clock = clock;
        this.random = random;
    }

    // ------------------------------------------------------------------ queries

    /** Every call still known, oldest first. */
    public List<Call> calls() {
        return calls.values().stream().map(C::snapshot).toList();
    }

    public Optional<Call> call(String id) {
        C c = calls.get(id);
        return c == null ? Optional.empty() : Optional.of(c.snapshot());
    }

    /** The call this device is in or ringing for, if any. */
    public Optional<Call> active() {
        return calls.values().stream().filter(c -> c.state != State.ENDED).map(C::snapshot).reduce((a, b) -> b);
    }

    // ------------------------------------------------------------------ commands

    /**
     * Calls {@code user} on these devices (their online devices; empty: the call ends at once with
     * {@link CallReason#OFFLINE}). Refused while this device is in another call.
     */
    public Dialed dial(String user, List<String> devices, boolean lowBandwidth) {
        if (user.equals(myUser)) throw new CallException("you cannot call yourself");
        if (active().isPresent()) throw new CallException("already in a call: hang up first");
        byte[] id = new byte[Limits.CALL_ID_BYTES];
        random.nextBytes(id);
        C c = new C(id, Direction.OUTGOING, user, lowBandwidth, clock.millis());
        put(c);
        List<Effect> out = new ArrayList<>();
        c.state = State.DIALING;
        Set<String> targets = new LinkedHashSet<>(devices);
        targets.remove(myDevice);
        if (targets.isEmpty()) {
            end(c, CallReason.OFFLINE, "remote", out);
            return new Dialed(c.hex, out);
        }
        c.invited.addAll(targets);
        for (String d : targets) out.add(new Effect.Send(d, new Frame.CallInvite(id, myUser, myDevice, lowBandwidth, CODEC)));
        out.add(new Effect.Changed(c.snapshot()));
        return new Dialed(c.hex, out);
    }

    /** Answers a ringing incoming call. */
    public List<Effect> answer(String callId) {
        C c = existing(callId);
        if (c.dir != Direction.INCOMING || c.state != State.RINGING) throw new CallException("call " + callId + " is not ringing here");
        List<Effect> out = new ArrayList<>();
        c.state = State.ANSWERING;
        c.answeredAt = clock.millis();
        out.add(new Effect.StopRinging(c.hex));
        out.add(new Effect.Send(c.callerDevice, new Frame.CallAnswer(c.id)));
        out.add(new Effect.Changed(c.snapshot()));
        return out;
    }

    /** Declines a ringing incoming call. */
    public List<Effect> reject(String callId) {
        C c = existing(callId);
        if (c.dir != Direction.INCOMING || c.state != State.RINGING) throw new CallException("call " + callId + " is not ringing here");
        List<Effect> out = new ArrayList<>();
        out.add(new Effect.Send(c.callerDevice, new Frame.CallReject(c.id, CallReason.DECLINED.code)));
        end(c, CallReason.DECLINED, "local", out);
        return out;
    }

    /** Ends a call in any state: cancels an outgoing call still ringing, declines a ringing one, hangs up. */
    public List<Effect> hangup(String callId) {
        return hangup(callId, CallReason.HANGUP);
    }

    /** As {@link #hangup(String)}, with a reason (e.g. {@link CallReason#FAILED} when media failed). */
    public List<Effect> hangup(String callId, CallReason reason) {
        C c = existing(callId);
        List<Effect> out = new ArrayList<>();
        switch (c.state) {
            case ENDED -> { }
            case DIALING, RINGING -> {
                if (c.dir == Direction.INCOMING) return reject(callId);
                cancelAll(c, CallReason.CANCELLED, out);
                end(c, CallReason.CANCELLED, "local", out);
            }
            case ANSWERING, CONNECTED -> {
                String peer = c.dir == Direction.INCOMING ? c.callerDevice : c.selected;
                out.add(new Effect.Send(peer, new Frame.CallHangup(c.id, reason.code)));
                end(c, reason, "local", out);
            }
        }
        return out;
    }

    /** Timeouts; call at least every second. */
    public List<Effect> tick() {
        long now = clock.millis();
        List<Effect> out = new ArrayList<>();
        for (C c : List.copyOf(calls.values())) {
            if (c.state == State.ENDED) continue;
            if (c.dir == Direction.OUTGOING) {
                if (c.state == State.DIALING && now - c.started >= config.ringingWithin().toMillis()) {
                    cancelAll(c, CallReason.UNREACHABLE, out);
                    end(c, CallReason.UNREACHABLE, "remote", out);
                } else if ((c.state == State.DIALING || c.state == State.RINGING) && now - c.started >= config.ringTimeout().toMillis()) {
                    cancelAll(c, CallReason.NO_ANSWER, out);
                    end(c, CallReason.NO_ANSWER, "remote", out);
                }
            } else if (c.state == State.ANSWERING && now - c.answeredAt >= config.selectWithin().toMillis()) {
                out.add(new Effect.Send(c.callerDevice, new Frame.CallHangup(c.id, CallReason.FAILED.code)));
                end(c, CallReason.FAILED, "remote", out);
            } else if (c.state == State.RINGING
                    && now - c.started >= config.ringTimeout().toMillis() + config.ringingWithin().toMillis()) {
                // the caller's cancel was lost: stop ringing on our own
                end(c, CallReason.NO_ANSWER, "remote", out);
            }
        }
        return out;
    }

    // ------------------------------------------------------------------ frames

    /** A signalling frame from {@code fromDevice} of {@code fromUser} (authenticated by the session or the seal). */
    public List<Effect> onFrame(String fromDevice, String fromUser, Frame f) {
        List<Effect> out = new ArrayList<>();
        switch (f) {
            case Frame.CallInvite i -> onInvite(fromDevice, fromUser, i, out);
            case Frame.CallRinging r -> {
                C c = outgoing(r.callId(), fromDevice, fromUser);
                if (c == null) break;
                if (c.state == State.DIALING) {
                    c.state = State.RINGING;
                    c.ringingAt = clock.millis();
                    out.add(new Effect.Changed(c.snapshot()));
                } else if (c.state == State.ENDED) {
                    out.add(new Effect.Send(fromDevice, new Frame.CallCancel(c.id, stopReason(c, fromDevice).code)));
                } else if (c.selected != null && !c.selected.equals(fromDevice)) {
                    out.add(new Effect.Send(fromDevice, new Frame.CallSelect(c.id, c.selected)));
                }
            }
            case Frame.CallAnswer a -> {
                C c = outgoing(a.callId(), fromDevice, fromUser);
                if (c == null) break;
                if (c.state == State.DIALING || c.state == State.RINGING) {
                    c.selected = fromDevice;
                    c.state = State.CONNECTED;
                    if (c.ringingAt == 0) c.ringingAt = clock.millis();
                    c.connectedAt = clock.millis();
                    for (String d : c.invited) {
                        if (!c.rejected.containsKey(d)) out.add(new Effect.Send(d, new Frame.CallSelect(c.id, fromDevice)));
                    }
                    out.add(new Effect.StartMedia(c.hex, fromDevice, c.lowBandwidth));
                    out.add(new Effect.Changed(c.snapshot()));
                } else if (c.state == State.CONNECTED && !fromDevice.equals(c.selected)) {
                    out.add(new Effect.Send(fromDevice, new Frame.CallSelect(c.id, c.selected)));
                } else if (c.state == State.ENDED && !fromDevice.equals(c.selected)) {
                    out.add(new Effect.Send(fromDevice, new Frame.CallCancel(c.id, stopReason(c, fromDevice).code)));
                } else if (c.state == State.ENDED) {
                    out.add(new Effect.Send(fromDevice, new Frame.CallHangup(c.id, c.reason.code)));
                }
            }
            case Frame.CallReject r -> {
                C c = outgoing(r.callId(), fromDevice, fromUser);
                if (c == null || c.rejected.containsKey(fromDevice)) break;
                CallReason why = CallReason.of(r.reason()) == CallReason.BUSY ? CallReason.BUSY : CallReason.DECLINED;
                c.rejected.put(fromDevice, why);
                if ((c.state == State.DIALING || c.state == State.RINGING) && c.rejected.keySet().containsAll(c.invited)) {
                    boolean allBusy = c.rejected.values().stream().allMatch(x -> x == CallReason.BUSY);
                    end(c, allBusy ? CallReason.BUSY : CallReason.DECLINED, "remote", out);
                } else if (c.state == State.CONNECTED && fromDevice.equals(c.selected)) {
                    end(c, CallReason.HANGUP, "remote", out);
                }
            }
            case Frame.CallSelect s -> {
                C c = incoming(s.callId(), fromDevice);
                if (c == null) break;
                if (s.selectedDevice().equals(myDevice)) {
                    if (c.state == State.ANSWERING) {
                        c.state = State.CONNECTED;
                        c.connectedAt = clock.millis();
                        out.add(new Effect.StartMedia(c.hex, c.callerDevice, c.lowBandwidth));
                        out.add(new Effect.Changed(c.snapshot()));
                    } else if (c.state == State.ENDED && !c.reason.equals(CallReason.ANSWERED_ELSEWHERE)) {
                        // we gave up (declined, hung up, timed out) while the caller chose us: tell it again
                        out.add(new Effect.Send(c.callerDevice, new Frame.CallHangup(c.id, c.reason.code)));
                    }
                } else if (c.state == State.RINGING || c.state == State.ANSWERING) {
                    end(c, CallReason.ANSWERED_ELSEWHERE, "remote", out);
                }
            }
            case Frame.CallCancel x -> {
                C c = incoming(x.callId(), fromDevice);
                if (c == null) {
                    // the cancel overtook its invite: remember the call as ended so the late invite does not ring
                    if (!calls.containsKey(HexFormat.of().formatHex(x.callId()))) tombstone(x.callId(), fromDevice, fromUser, CallReason.of(x.reason()));
                    break;
                }
                if (c.state == State.RINGING || c.state == State.ANSWERING) end(c, cancelReason(x.reason()), "remote", out);
                else if (c.state == State.CONNECTED) end(c, CallReason.HANGUP, "remote", out);
            }
            case Frame.CallHangup h -> {
                String hex = HexFormat.of().formatHex(h.callId());
                C c = calls.get(hex);
                if (c == null || c.state == State.ENDED) break;
                String peer = c.dir == Direction.INCOMING ? c.callerDevice : c.selected;
                if (!fromDevice.equals(peer)) break;
                CallReason why = CallReason.of(h.reason());
                end(c, why == CallReason.UNKNOWN ? CallReason.HANGUP : why, "remote", out);
            }
            default -> { }
        }
        return out;
    }

    private void onInvite(String fromDevice, String fromUser, Frame.CallInvite i, List<Effect> out) {
        String hex = HexFormat.of().formatHex(i.callId());
        if (calls.containsKey(hex)) return; // a repeat, or cancelled before it arrived
        if (!fromDevice.equals(i.callerDevice()) || !fromUser.equals(i.callerUser()) || fromUser.equals(myUser)) return;
        C c = new C(i.callId(), Direction.INCOMING, fromUser, i.lowBandwidth(), clock.millis());
        c.callerDevice = fromDevice;
        boolean busy = active().isPresent();
        put(c);
        if (busy) {
            out.add(new Effect.Send(fromDevice, new Frame.CallReject(i.callId(), CallReason.BUSY.code)));
            c.state = State.ENDED; // a missed call: it never rang here
            c.reason = CallReason.BUSY;
            c.endedBy = "local";
            c.endedAt = clock.millis();
            out.add(new Effect.Changed(c.snapshot()));
            return;
        }
        c.state = State.RINGING;
        c.ringingAt = clock.millis();
        out.add(new Effect.Send(fromDevice, new Frame.CallRinging(i.callId())));
        out.add(new Effect.Ring(c.hex, fromUser));
        out.add(new Effect.Changed(c.snapshot()));
    }

    // ------------------------------------------------------------------ helpers

    private void put(C c) {
        calls.put(c.hex, c);
        if (calls.size() > config.keepEnded()) {
            for (var it = calls.values().iterator(); it.hasNext() && calls.size() > config.keepEnded(); ) {
                if (it.next().state == State.ENDED) it.remove();
            }
        }
    }

    private void tombstone(byte[] id, String fromDevice, String fromUser, CallReason reason) {
        C c = new C(id, Direction.INCOMING, fromUser, false, clock.millis());
        c.callerDevice = fromDevice;
        c.state = State.ENDED;
        c.reason = cancelReason(reason.code);
        c.endedBy = "remote";
        c.endedAt = clock.millis();
        put(c);
    }

    private static CallReason cancelReason(int code) {
        CallReason r = CallReason.of(code);
        return r == CallReason.UNKNOWN ? CallReason.CANCELLED : r;
    }

    /** Why an invited device that shows up after the call ended must stop. */
    private static CallReason stopReason(C c, String device) {
        return c.selected != null && !c.selected.equals(device) ? CallReason.ANSWERED_ELSEWHERE : c.reason;
    }

    private C existing(String callId) {
        C c = callId == null ? null : calls.get(callId);
        if (c == null) throw new CallException("no call " + callId);
        return c;
    }

    /** Our outgoing call with this id, if the frame comes from one of the devices we invited. */
    private C outgoing(byte[] id, String fromDevice, String fromUser) {
        C c = calls.get(HexFormat.of().formatHex(id));
        if (c == null || c.dir != Direction.OUTGOING || !c.invited.contains(fromDevice) || !c.peerUser.equals(fromUser)) return null;
        return c;
    }

    /** Our incoming call with this id, if the frame comes from its caller's device. */
    private C incoming(byte[] id, String fromDevice) {
        C c = calls.get(HexFormat.of().formatHex(id));
        if (c == null || c.dir != Direction.INCOMING || !fromDevice.equals(c.callerDevice)) return null;
        return c;
    }

    private void cancelAll(C c, CallReason reason, List<Effect> out) {
        for (String d : c.invited) {
            if (!c.rejected.containsKey(d)) out.add(new Effect.Send(d, new Frame.CallCancel(c.id, reason.code)));
        }
    }

    private void end(C c, CallReason reason, String by, List<Effect> out) {
        State was = c.state;
        c.state = State.ENDED;
        c.reason = reason;
        c.endedBy = by;
        c.endedAt = clock.millis();
        if (c.dir == Direction.INCOMING && was == State.RINGING) out.add(new Effect.StopRinging(c.hex));
        if (was == State.CONNECTED) out.add(new Effect.StopMedia(c.hex));
        out.add(new Effect.Changed(c.snapshot()));
    }
}
