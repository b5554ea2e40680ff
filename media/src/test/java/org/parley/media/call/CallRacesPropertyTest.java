package org.parley.media.call;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.parley.media.call.CallAgent.State;

/**
 * Random commands and random delivery orders (and, in one variant, lost frames) among a caller, 1-4 devices of the
 * callee and a third user who also calls: the first-answer-wins rules hold in every interleaving.
 */
class CallRacesPropertyTest {

    private static void checkSafety(CallNet net, String caller, List<String> callees, String id) {
        long connected = callees.stream().filter(d -> net.devices.get(d).agent().call(id).map(c -> c.state() == State.CONNECTED).orElse(false)).count();
        assertThat(connected).as("callee devices connected to one call").isLessThanOrEqualTo(1);
        for (var d : net.devices.values()) {
            for (CallAgent.Call c : d.agent().calls()) {
                if (c.state() == State.ENDED) assertThat(c.reason()).as("end reason at %s", d.id()).isNotNull();
                boolean hasMedia = net.media.get(d.id()).containsKey(c.id());
                assertThat(hasMedia).as("media at %s only while connected (%s)", d.id(), c.state()).isEqualTo(c.state() == State.CONNECTED);
            }
            assertThat(d.agent().calls().stream().filter(CallAgent.Call::active).count()).as("one call at a time at %s", d.id()).isLessThanOrEqualTo(1);
        }
        CallAgent.Call mine = net.call(caller, id);
        if (mine.state() == State.CONNECTED) assertThat(callees).contains(mine.peerDevice());
    }

    private static void run(long seed, int calleeCount, int steps, boolean lossy) {
        Random r = new Random(seed);
        CallNet net = new CallNet();
        net.add("alice", "a1");
        net.add("carol", "c1");
        List<String> callees = new java.util.ArrayList<>();
        for (int i = 1; i <= calleeCount; i++) callees.add(net.add("bob", "b" + i).id());
        String id = net.dial("a1", "bob", r.nextBoolean());
        String other = null;
        for (int s = 0; s < steps; s++) {
            int what = r.nextInt(100);
            if (what < 45 && !net.inFlight.isEmpty()) {
                net.deliver(r.nextInt(net.inFlight.size()));
            } else if (what < 52 && lossy && !net.inFlight.isEmpty()) {
                net.inFlight.remove(r.nextInt(net.inFlight.size()));
            } else if (what < 67) {
                String d = callees.get(r.nextInt(callees.size()));
                CallAgent a = net.devices.get(d).agent();
                a.calls().stream().filter(c -> c.state() == State.RINGING).findFirst().ifPresent(c -> net.apply(d, a.answer(c.id())));
            } else if (what < 72) {
                String d = callees.get(r.nextInt(callees.size()));
                CallAgent a = net.devices.get(d).agent();
                a.calls().stream().filter(c -> c.state() == State.RINGING).findFirst().ifPresent(c -> net.apply(d, a.reject(c.id())));
            } else if (what < 78) {
                List<String> all = List.copyOf(net.devices.keySet());
                String d = all.get(r.nextInt(all.size()));
                CallAgent a = net.devices.get(d).agent();
                a.active().ifPresent(c -> net.apply(d, a.hangup(c.id())));
            } else if (what < 82 && other == null) {
                other = net.dial("c1", "bob", false); // a second caller: bob's devices are busy or ring twice
            } else {
                net.advance(r.nextInt(4000));
            }
            checkSafety(net, "a1", callees, id);
        }
        // let everything settle: deliver what is in flight, let timeouts fire
        for (int round = 0; round < 10; round++) {
            net.deliverAll();
            net.advance(20_000);
        }
        net.deliverAll();
        checkSafety(net, "a1", callees, id);
        for (String d : callees) {
            assertThat(net.ringing.get(d)).as("%s still ringing", d).isEmpty();
            assertThat(net.devices.get(d).agent().calls()).noneMatch(c -> c.state() == State.ANSWERING || c.state() == State.RINGING);
        }
        CallAgent.Call mine = net.call("a1", id);
        assertThat(mine.state()).isIn(State.CONNECTED, State.ENDED);
        if (!lossy) {
            // nothing lost: both ends agree
            if (mine.state() == State.CONNECTED) {
                CallAgent.Call theirs = net.call(mine.peerDevice(), id);
                assertThat(theirs.state()).isEqualTo(State.CONNECTED);
                assertThat(theirs.peerDevice()).isEqualTo("a1");
            } else {
                for (String d : callees) {
                    net.devices.get(d).agent().call(id).ifPresent(c -> assertThat(c.state()).as("%s after the caller ended", d).isEqualTo(State.ENDED));
                }
            }
        }
    }

    @Property(tries = 300)
    void firstAnswerWinsInEveryInterleaving(@ForAll long seed, @ForAll @IntRange(min = 1, max = 4) int callees,
                                            @ForAll @IntRange(min = 5, max = 80) int steps) {
        run(seed, callees, steps, false);
    }

    @Property(tries = 300)
    void lostFramesNeverLeaveTwoConnectedOrARingingDevice(@ForAll long seed, @ForAll @IntRange(min = 1, max = 4) int callees,
                                                         @ForAll @IntRange(min = 5, max = 80) int steps) {
        run(seed, callees, steps, true);
    }
}
