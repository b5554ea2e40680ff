package org.parley.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ControlDatagramTest {
    private static byte[] id(int seed) {
        byte[] b = new byte[16];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void everyTypeRoundTrips() throws Exception {
        List<ControlDatagram> all = List.of(
                new ControlDatagram.Punch(id(1), id(2)),
                new ControlDatagram.RelayBind(id(3)),
                new ControlDatagram.RelayBound(id(4), true),
                new ControlDatagram.RelayBound(id(4), false),
                new ControlDatagram.RelayDeny(id(5), ControlDatagram.DENY_LIMIT));
        for (ControlDatagram d : all) {
            byte[] bytes = ControlDatagram.encode(d);
            assertThat(ControlDatagram.isControl(ByteBuffer.wrap(bytes))).isTrue();
            ControlDatagram back = ControlDatagram.decode(bytes);
            assertThat(ControlDatagram.encode(back)).isEqualTo(bytes);
            assertThat(back.getClass()).isEqualTo(d.getClass());
        }
        var p = (ControlDatagram.Punch) ControlDatagram.decode(ControlDatagram.encode(new ControlDatagram.Punch(id(1),
                ControlDatagram.deviceBytes("00112233445566778899aabbccddeeff"))));
        assertThat(p.senderDeviceHex()).isEqualTo("00112233445566778899aabbccddeeff");
    }

    @Test
    void quicPacketsAreNeverControlDatagrams() {
        // every QUIC v1 packet has the fixed bit 0x40 set in its first byte
        for (int first = 0x40; first < 0x100; first++) {
            if ((first & 0x40) == 0) continue;
            byte[] b = new byte[40];
            b[0] = (byte) first;
            assertThat(ControlDatagram.isControl(ByteBuffer.wrap(b))).isFalse();
        }
    }

    @Test
    void wrongSizesAndMagicAreFormatErrors() {
        byte[] ok = ControlDatagram.encode(new ControlDatagram.RelayBind(id(9)));
        assertThatThrownBy(() -> ControlDatagram.decode(Arrays.copyOf(ok, ok.length - 1))).isInstanceOf(WireFormatException.class);
        assertThatThrownBy(() -> ControlDatagram.decode(Arrays.copyOf(ok, ok.length + 1))).isInstanceOf(WireFormatException.class);
        byte[] bad = ok.clone();
        bad[1] = 'X';
        assertThatThrownBy(() -> ControlDatagram.decode(bad)).isInstanceOf(WireFormatException.class);
        assertThatThrownBy(() -> ControlDatagram.decode(new byte[3])).isInstanceOf(WireFormatException.class);
    }

    @Test
    void unknownTypesAreSkippedAndRandomBytesNeverThrowAnythingElse() throws Exception {
        byte[] unknown = {0, 'P', 'L', 'Y', 99, 1, 2, 3};
        assertThat(ControlDatagram.decode(unknown)).isNull();
        Random r = new Random(42);
        for (int i = 0; i < 20_000; i++) {
            byte[] b = new byte[r.nextInt(60)];
            r.nextBytes(b);
            if (b.length >= 5 && r.nextBoolean()) {
                System.arraycopy(ControlDatagram.MAGIC, 0, b, 0, 4);
                b[4] = (byte) (1 + r.nextInt(5));
            }
            try {
                ControlDatagram.decode(b);
            } catch (WireFormatException expected) {
                // the one failure mode
            }
        }
    }
}
