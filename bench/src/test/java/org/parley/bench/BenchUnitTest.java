package org.parley.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Unit tests of the benchmark's helpers (the scenarios themselves are run by bench/run.sh). */
class BenchUnitTest {
    @Test
    void optionsDefaultsAndOverrides() {
        Bench.Options d = Bench.Options.parse(new String[0]);
        assertThat(d.scenario()).isEqualTo("all");
        assertThat(d.clients()).isEqualTo(1000);
        assertThat(d.seconds()).isEqualTo(10);
        assertThat(d.pairs()).containsExactly(1, 10, 100);
        assertThat(d.warmupSeconds()).isEqualTo(3);

        Bench.Options o = Bench.Options.parse(new String[] {"route", "--clients", "50", "--seconds", "2", "--pairs", "1,5"});
        assertThat(o.scenario()).isEqualTo("route");
        assertThat(o.clients()).isEqualTo(50);
        assertThat(o.pairs()).containsExactly(1, 5);
        assertThat(o.warmupSeconds()).isEqualTo(1);
    }

    @Test
    void optionsRejectNonsense() {
        assertThatThrownBy(() -> Bench.Options.parse(new String[] {"fly"})).hasMessageContaining("unknown argument 'fly'");
        assertThatThrownBy(() -> Bench.Options.parse(new String[] {"--clients", "x"})).hasMessageContaining("--clients");
        assertThatThrownBy(() -> Bench.Options.parse(new String[] {"--pairs", "1,0"})).hasMessageContaining("--pairs");
        assertThatThrownBy(() -> Bench.Options.parse(new String[] {"attach", "route"})).hasMessageContaining("unknown argument");
    }

    @Test
    void stanzaReaderSplitsTopLevelElementsAcrossStreamRestarts() throws Exception {
        String wire = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' id='1' version='1.0'>"
                + "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism>"
                + "</mechanisms></stream:features>"
                + "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>"
                + "<?xml version='1.0'?><stream:stream xmlns='jabber:client' id='2' version='1.0'>"
                + "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features> "
                + "<message from='bob@localhost/b0' to='alice@localhost/a0' id='m1' type='chat'><body>hi there</body></message>";
        XmppClient.StanzaReader r = new XmppClient.StanzaReader(new ByteArrayInputStream(wire.getBytes(StandardCharsets.UTF_8)));
        assertThat(r.until("features")).contains(">PLAIN<");
        assertThat(r.next()).startsWith("<success");
        assertThat(r.until("features")).contains("xmpp-bind");
        assertThat(r.next()).startsWith("<message").endsWith("</message>").contains("<body>hi there</body>");
        assertThat(r.next()).isNull();
    }

    @Test
    void heapInfoOfG1AndSerial() throws Exception {
        String g1 = """
                 garbage-first heap   total reserved 6172672K, committed 57344K, used 26624K [0x0000000640000000, 0x0000000800000000)
                  region size 4096K, 1 young (4096K), 0 survivors (0K)
                 Metaspace       used 13510K, committed 13760K, reserved 1114112K
                """;
        Probe.Heap h = Probe.parseHeapInfo(g1);
        assertThat(h.usedBytes()).isEqualTo(26624L * 1024);
        assertThat(h.committedBytes()).isEqualTo(57344L * 1024);

        String serial = """
                 def new generation   total 4928K, used 1000K [0x00000000f0000000, 0x00000000f0550000, 0x00000000f5550000)
                 tenured generation   total 10944K, used 3000K [0x00000000f5550000, 0x00000000f6000000, 0x0000000100000000)
                """;
        assertThat(Probe.parseHeapInfo(serial).usedBytes()).isEqualTo(4000L * 1024);
    }

    @Test
    void resultsFormatting() {
        assertThat(Results.ms(0.256)).isEqualTo("0.26");
        assertThat(Results.ms(12.34)).isEqualTo("12.3");
        assertThat(Results.ms(1234.5)).isEqualTo("1235");
        assertThat(Results.ratio(2, 4)).isEqualTo("0.50x");
        assertThat(Results.ratio(1, 0)).isEqualTo("-");
        assertThat(List.of(Results.num(Double.NaN))).containsExactly("-");
    }
}
