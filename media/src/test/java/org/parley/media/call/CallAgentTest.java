package org.parley.media.call;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.parley.media.call.CallAgent.State;
import org.parley.protocol.CallReason;
import org.parley.protocol.Frame;

/** Each outcome of a call and the races of answering, on agents joined by a controlled network. */
class CallAgentTest {
    private final CallNet net = new CallNet();

    private CallNet threeDevices() {
        net.add("alice", "a1");
        net.add("bob", "b1");
        net.add("bob", "b2");
        net.add("bob", "b3");
        return net;
    }

    private void assertState(String device, String id, State s, CallReason reason) {
        CallAgent.Call c = net.call(device, id);
        assertThat(c.state()).as("%s state", device).isEqualTo(s);
        assertThat(c.reason()).as("%s reason", device).isEqualTo(reason);
    }

    @Test
    void ringsEveryDeviceAndTheFirstAnswerWinsTheOthersStopAnsweredElsewhere() {
        threeDevices();
        String id = net.dial("a1", "bob", false);
        assertState("a1", id, State.DIALING, null);
        net.deliverAll();
        assertState("a1", id, State.RINGING, null);
        for (String d : List.of("b1", "b2", "b3")) assertThat(net.ringing.get(d)).containsExactly(id);
        net.apply("b2", net.devices.get("b2").agent().answer(id));
        net.deliverAll();
        assertState("a1", id, State.CONNECTED, null);
        assertThat(net.call("a1", id).peerDevice()).isEqualTo("b2");
        assertState("b2", id, State.CONNECTED, null);
        assertState("b1", id, State.ENDED, CallReason.ANSWERED_ELSEWHERE);
        assertState("b3", id, State.ENDED, CallReason.ANSWERED_ELSEWHERE);
        for (String d : List.of("b1", "b2", "b3")) assertThat(net.ringing.get(d)).isEmpty();
        assertThat(net.media.get("a1")).containsEntry(id, "b2");
        assertThat(net.media.get("b2")).containsEntry(id, "a1");
        // hang-up from the callee ends both, media stops
        net.apply("b2", net.devices.get("b2").agent().hangup(id));
        net.deliverAll();
        assertState("a1", id, State.ENDED, CallReason.HANGUP);
        assertThat(net.call("a1", id).endedBy()).isEqualTo("remote");
        assertThat(net.call("b2", id).endedBy()).isEqualTo("local");
        assertThat(net.media.get("a1")).isEmpty();
        assertThat(net.media.get("b2")).isEmpty();
    }

    @Test
    void twoDevicesAnswerAtOnce() {
        threeDevices();
        String id = net.dial("a1", "bob", false);
        net.deliverAll();
        net.apply("b1", net.devices.get("b1").agent().answer(id));
        net.apply("b3", net.devices.get("b3").agent().answer(id));
        // both answers are in flight together; deliver b3's first
        int b3 = net.inFlight.stream().map(CallNet.InFlight::from).toList().indexOf("b3");
        net.deliver(b3);
        net.deliverAll();
        assertThat(net.call("a1", id).peerDevice()).isEqualTo("b3");
        assertState("b3", id, State.CONNECTED, null);
        assertState("b1", id, State.ENDED, CallReason.ANSWERED_ELSEWHERE);
        assertThat(net.media.get("b1")).isEmpty();
        assertThat(net.mediaStarts.get("a1")).isEqualTo(1);
    }

    @Test
    void callerCancelsWhileACalleeAnswers() {
        threeDevices();
        String id = net.dial("a1", "bob", false);
        net.deliverAll();
        net.apply("b1", net.devices.get("b1").agent().answer(id));
        net.apply("a1", net.devices.get("a1").agent().hangup(id)); // the answer is still in flight
        net.deliverAll();
        assertState("a1", id, State.ENDED, CallReason.CANCELLED);
        assertState("b1", id, State.ENDED, CallReason.CANCELLED);
        assertState("b2", id, State.ENDED, CallReason.CANCELLED);
        for (String d : List.of("a1", "b1", "b2", "b3")) assertThat(net.media.get(d)).as(d).isEmpty();
        assertThat(net.mediaStarts.values()).allMatch(n -> n == 0);
    }

    @Test
    void declineBusyAndMixed() {
        threeDevices();
        String id = net.dial("a1", "bob", false);
        net.deliverAll();
        for (String d : List.of("b1", "b2", "b3")) net.apply(d, net.devices.get(d).agent().reject(id));
        net.deliverAll();
        assertState("a1", id, State.ENDED, CallReason.DECLINED);
        assertState("b1", id, State.ENDED, CallReason.DECLINED);

        // bob's single device is in a call with carol: alice gets busy
        CallNet n2 = new CallNet();
        n2.add("alice", "a1");
        n2.add("bob", "b1");
        n2.add("carol", "c1");
        String first = n2.dial("c1", "bob", false);
        n2.deliverAll();
        n2.apply("b1", n2.devices.get("b1").agent().answer(first));
        n2.deliverAll();
        String second = n2.dial("a1", "bob", false);
        n2.deliverAll();
        assertThat(n2.call("a1", second).state()).isEqualTo(State.ENDED);
        assertThat(n2.call("a1", second).reason()).isEqualTo(CallReason.BUSY);
        assertThat(n2.call("b1", second).reason()).isEqualTo(CallReason.BUSY); // shown as a missed call
        assertThat(n2.call("b1", first).state()).isEqualTo(State.CONNECTED);
        assertThat(n2.ringing.get("b1")).isEmpty();
    }

    @Test
    void offlineUnreachableAndNoAnswer() {
        net.add("alice", "a1");
        String offline = net.dial("a1", "dave", false);
        assertState("a1", offline, State.ENDED, CallReason.OFFLINE);

        net.add("bob", "b1");
        String lost = net.dial("a1", "bob", false);
        net.inFlight.clear(); // the invite is lost: nobody says ringing
        net.advance(5_000);
        assertState("a1", lost, State.ENDED, CallReason.UNREACHABLE);

        String unanswered = net.dial("a1", "bob", false);
        net.deliverAll();
        net.advance(44_000);
        assertState("a1", unanswered, State.RINGING, null);
        net.advance(1_000);
        net.deliverAll();
        assertState("a1", unanswered, State.ENDED, CallReason.NO_ANSWER);
        assertState("b1", unanswered, State.ENDED, CallReason.NO_ANSWER);
        assertThat(net.ringing.get("b1")).isEmpty();
    }

    @Test
    void lateAndForeignFramesAreHandledWithoutExceptions() {
        threeDevices();
        net.add("mallory", "m1");
        String id = net.dial("a1", "bob", false);
        net.deliverAll();
        byte[] raw = java.util.HexFormat.of().parseHex(id);
        // a device that was not invited cannot answer; unknown calls are ignored
        net.apply("a1", net.devices.get("a1").agent().onFrame("m1", "mallory", new Frame.CallAnswer(raw)));
        net.apply("a1", net.devices.get("a1").agent().onFrame("b1", "bob", new Frame.CallAnswer(new byte[16])));
        assertState("a1", id, State.RINGING, null);
        // a cancel that overtakes its invite: the late invite does not ring
        CallNet n2 = new CallNet();
        n2.add("alice", "a1");
        n2.add("bob", "b1");
        String x = n2.dial("a1", "bob", false);
        CallNet.InFlight invite = n2.inFlight.remove(0);
        n2.apply("a1", n2.devices.get("a1").agent().hangup(x));
        n2.deliverAll();
        n2.inFlight.add(invite);
        n2.deliverAll();
        assertThat(n2.ringing.get("b1")).isEmpty();
        assertThat(n2.call("b1", x).state()).isEqualTo(State.ENDED);
        // commands on unknown calls or in the wrong state are one-line errors
        assertThatThrownBy(() -> net.devices.get("a1").agent().answer(id)).hasMessageContaining("not ringing");
        assertThatThrownBy(() -> net.devices.get("a1").agent().hangup("00")).hasMessageContaining("no call");
        assertThatThrownBy(() -> net.devices.get("a1").agent().dial("alice", List.of(), false)).hasMessageContaining("yourself");
        assertThatThrownBy(() -> net.devices.get("a1").agent().dial("carol", List.of("c1"), false)).hasMessageContaining("already in a call");
    }

    @Test
    void hangupsCrossingEachOtherEndBothOnce() {
        net.add("alice", "a1");
        net.add("bob", "b1");
        String id = net.dial("a1", "bob", true);
        net.deliverAll();
        net.apply("b1", net.devices.get("b1").agent().answer(id));
        net.deliverAll();
        assertThat(net.call("b1", id).lowBandwidth()).isTrue();
        net.apply("a1", net.devices.get("a1").agent().hangup(id));
        net.apply("b1", net.devices.get("b1").agent().hangup(id));
        net.deliverAll();
        assertState("a1", id, State.ENDED, CallReason.HANGUP);
        assertState("b1", id, State.ENDED, CallReason.HANGUP);
        assertThat(net.call("a1", id).endedBy()).isEqualTo("local");
        assertThat(net.call("b1", id).endedBy()).isEqualTo("local");
        assertThat(net.media.get("a1")).isEmpty();
        assertThat(net.media.get("b1")).isEmpty();
    }
}
