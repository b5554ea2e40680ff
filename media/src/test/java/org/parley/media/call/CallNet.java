package org.parley.media.call;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.parley.media.call.CallAgent.Effect;
import org.parley.protocol.Frame;
import org.parley.protocol.FrameCodec;

/**
 * Devices running {@link CallAgent}s, joined by an in-memory network the test controls: frames wait in flight until
 * delivered (in any order the test picks) or dropped; time moves only when the test says.
 */
final class CallNet {
    static final class MutableClock extends Clock {
        long millis = 1_700_000_000_000L;

        @Override public ZoneOffset getZone() { return ZoneOffset.UTC; }
        @Override public Clock withZone(java.time.ZoneId z) { return this; }
        @Override public long millis() { return millis; }
        @Override public Instant instant() { return Instant.ofEpochMilli(millis); }
    }

    record Device(String user, String id, CallAgent agent) {}

    record InFlight(String from, String to, Frame frame) {}

    final MutableClock clock = new MutableClock();
    final Map<String, Device> devices = new LinkedHashMap<>();
    final List<InFlight> inFlight = new ArrayList<>();
    /** Per device: ringing calls now, media started (call id -> peer), every effect seen. */
    final Map<String, List<String>> ringing = new LinkedHashMap<>();
    final Map<String, Map<String, String>> media = new LinkedHashMap<>();
    final Map<String, Integer> mediaStarts = new LinkedHashMap<>();
    final SplittableRandom ids = new SplittableRandom(7);

    Device add(String user, String id) {
        CallAgent a = new CallAgent(user, id, CallAgent.Config.defaults(), clock, new java.util.Random(ids.nextLong()));
        Device d = new Device(user, id, a);
        devices.put(id, d);
        ringing.put(id, new ArrayList<>());
        media.put(id, new LinkedHashMap<>());
        mediaStarts.put(id, 0);
        return d;
    }

    void apply(String device, List<Effect> effects) {
        for (Effect e : effects) {
            switch (e) {
                case Effect.Send s -> {
                    // every frame crosses the wire encoded, as in the daemon
                    try {
                        inFlight.add(new InFlight(device, s.toDevice(), FrameCodec.decode(FrameCodec.encode(s.frame()))));
                    } catch (org.parley.protocol.WireFormatException ex) {
                        throw new AssertionError(ex);
                    }
                }
                case Effect.Ring r -> ringing.get(device).add(r.callId());
                case Effect.StopRinging r -> ringing.get(device).remove(r.callId());
                case Effect.StartMedia m -> {
                    media.get(device).put(m.callId(), m.peerDevice());
                    mediaStarts.merge(device, 1, Integer::sum);
                }
                case Effect.StopMedia m -> media.get(device).remove(m.callId());
                case Effect.Changed c -> { }
            }
        }
    }

    /** Delivers the in-flight frame at {@code index}. */
    void deliver(int index) {
        InFlight f = inFlight.remove(index);
        Device to = devices.get(f.to());
        if (to == null) return;
        apply(f.to(), to.agent().onFrame(f.from(), devices.get(f.from()).user(), f.frame()));
    }

    void deliverAll() {
        while (!inFlight.isEmpty()) deliver(0);
    }

    void advance(long ms) {
        clock.millis += ms;
        for (Device d : devices.values()) apply(d.id(), d.agent().tick());
    }

    String dial(String from, String user, boolean lowBandwidth) {
        List<String> targets = devices.values().stream().filter(d -> d.user().equals(user)).map(Device::id).toList();
        CallAgent.Dialed r = devices.get(from).agent().dial(user, targets, lowBandwidth);
        apply(from, r.effects());
        return r.callId();
    }

    CallAgent.Call call(String device, String id) {
        return devices.get(device).agent().call(id).orElseThrow();
    }
}
