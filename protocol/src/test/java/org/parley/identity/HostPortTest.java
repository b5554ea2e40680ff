package org.parley.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class HostPortTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "192.0.2.1:7000|192.0.2.1|7000",
            "127.0.0.1:0|127.0.0.1|0",
            "example.com:443|example.com|443",
            "sn-1.eu.example.org:65535|sn-1.eu.example.org|65535",
            "localhost:1|localhost|1",
            "[2001:db8::1]:7000|2001:db8::1|7000",
            "[::1]:443|::1|443",
            "'  example.com:80  '|example.com|80",
    })
    void parsesValidAddresses(String text, String host, int port) {
        HostPort hp = HostPort.parse(text);
        assertThat(hp.host()).isEqualTo(host);
        assertThat(hp.port()).isEqualTo(port);
        // toString is parseable and canonical
        assertThat(HostPort.parse(hp.toString())).isEqualTo(hp);
    }

    @Test
    void toStringBracketsIpv6() {
        assertThat(new HostPort("2001:db8::1", 7000).toString()).isEqualTo("[2001:db8::1]:7000");
        assertThat(new HostPort("example.com", 80).toString()).isEqualTo("example.com:80");
        assertThat(new HostPort("192.0.2.1", 1).toString()).isEqualTo("192.0.2.1:1");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "   ", "host", "host:", ":80", "host:abc", "host:99999", "host:65536", "host:-1",
            "[]:80", "host:80x", "host:8 0", "[::1]", "[::1]:", "example.com:99999999999"})
    void rejectsInvalidAddresses(String text) {
        IllegalArgumentException e = catchThrowableOfType(IllegalArgumentException.class, () -> HostPort.parse(text));
        assertThat(e).as("'%s' should be rejected", text).isNotNull();
        assertThat(e.getMessage()).isNotBlank().doesNotContain("\n");
    }

    @Test
    void rejectsNull() {
        assertThatThrownBy(() -> HostPort.parse(null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("missing");
    }

    @Test
    void messagesQuoteTheInput() {
        assertThatThrownBy(() -> HostPort.parse("host")).hasMessageContaining("'host'").hasMessageContaining("HOST:PORT");
        assertThatThrownBy(() -> HostPort.parse("h:99999")).hasMessageContaining("'h:99999'").hasMessageContaining("range");
        assertThatThrownBy(() -> HostPort.parse("h:x")).hasMessageContaining("not a number");
    }

    @Test
    void constructorValidates() {
        assertThatThrownBy(() -> new HostPort(null, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new HostPort(" ", 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new HostPort("h", -1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new HostPort("h", 65536)).isInstanceOf(IllegalArgumentException.class);
        assertThat(new HostPort("h", 65535).port()).isEqualTo(65535);
    }

    @Test
    void fromSocketAddress() throws Exception {
        InetSocketAddress v4 = new InetSocketAddress(InetAddress.getByAddress(new byte[] {(byte) 192, 0, 2, 9}), 4433);
        assertThat(HostPort.of(v4)).isEqualTo(new HostPort("192.0.2.9", 4433));
        byte[] v6 = new byte[16];
        v6[15] = 1;
        HostPort hp6 = HostPort.of(new InetSocketAddress(InetAddress.getByAddress(v6), 1));
        assertThat(hp6.host()).contains(":");
        assertThat(hp6.toString()).startsWith("[").endsWith("]:1");
        assertThat(HostPort.of(InetSocketAddress.createUnresolved("sn.example", 7000)))
                .isEqualTo(new HostPort("sn.example", 7000));
    }

    @Test
    void toSocketAddressOfALiteral() {
        InetSocketAddress a = new HostPort("127.0.0.1", 7000).toSocketAddress();
        assertThat(a.getPort()).isEqualTo(7000);
        assertThat(a.getAddress().getHostAddress()).isEqualTo("127.0.0.1");
    }
}
