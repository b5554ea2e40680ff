package org.parley.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class MediaPacketTest {
    @Test
    void roundTripsEveryTruncationFailsAndUnknownKindsAreSkipped() throws Exception {
        MediaPacket p = new MediaPacket(MediaPacket.FLAG_LOW_BANDWIDTH, -5L, 0xffffffffL, 123_456L, new byte[] {1, 2, 3});
        byte[] enc = p.encode();
        assertThat(enc).hasSize(MediaPacket.HEADER_BYTES + 3);
        MediaPacket q = MediaPacket.decode(enc);
        assertThat(q.call()).isEqualTo(-5L);
        assertThat(q.sequence()).isEqualTo(0xffffffffL);
        assertThat(q.timestamp()).isEqualTo(123_456L);
        assertThat(q.lowBandwidth()).isTrue();
        assertThat(q.payload()).containsExactly(1, 2, 3);
        // a QUIC datagram arrives whole or not at all; anything without a header and one payload byte is refused
        for (int n = 0; n <= MediaPacket.HEADER_BYTES; n++) {
            byte[] cut = Arrays.copyOf(enc, n);
            assertThatThrownBy(() -> MediaPacket.decode(cut)).isInstanceOf(WireFormatException.class);
        }
        byte[] big = new byte[MediaPacket.HEADER_BYTES + MediaPacket.MAX_PAYLOAD + 1];
        big[0] = 1;
        big[1] = 1;
        assertThatThrownBy(() -> MediaPacket.decode(big)).isInstanceOf(WireFormatException.class);
        byte[] v2 = enc.clone();
        v2[0] = 2;
        assertThatThrownBy(() -> MediaPacket.decode(v2)).hasMessageContaining("version 2");
        byte[] video = enc.clone();
        video[1] = 9;
        assertThat(MediaPacket.decode(video)).isNull();
        assertThatThrownBy(() -> new MediaPacket(0, 0, 0, 0, new byte[MediaPacket.MAX_PAYLOAD + 1])).isInstanceOf(IllegalArgumentException.class);
        assertThat(MediaPacket.callField(new byte[] {0, 0, 0, 0, 0, 0, 0, 7, 9, 9, 9, 9, 9, 9, 9, 9})).isEqualTo(7L);
    }
}
