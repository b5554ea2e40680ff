package org.parley.media;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.parley.media.io.SignalAnalysis;
import org.parley.media.io.Wav;
import org.parley.protocol.MediaPacket;

/**
 * The whole voice path without sockets: sender -> a simulated network (20-50 ms delay with jitter and reordering,
 * seeded random loss) -> jitter buffer, FEC and PLC -> playout every 20 ms, on a sweep and on speech from espeak-ng.
 * Checks that the received audio is aligned (one delay, the same in both halves) and still matches the sent signal at
 * 0, 5 and 15 % loss. Figures are printed as "MEDIA ..." lines.
 */
class VoicePathTest {
    @TempDir Path dir;

    record Run(short[] received, AudioReceiver.Stats stats, long bitrate) {}

    /** Sends {@code pcm} through the simulated network with the given loss and returns what was played. */
    static Run run(short[] pcm, double loss, boolean lowBandwidth, long seed) {
        Random rnd = new Random(seed);
        AudioSender sender = new AudioSender(42, lowBandwidth);
        AudioReceiver receiver = new AudioReceiver();
        record Arrival(long at, MediaPacket p) {}
        PriorityQueue<Arrival> net = new PriorityQueue<>((a, b) -> Long.compare(a.at, b.at));
        int frames = pcm.length / VoiceCodec.FRAME_SAMPLES;
        int tail = 30; // keep playing after the last frame so the buffer drains
        short[] out = new short[(frames + tail) * VoiceCodec.FRAME_SAMPLES];
        for (int k = 0; k < frames + tail; k++) {
            long now = k * 20L;
            if (k < frames) {
                short[] f = Arrays.copyOfRange(pcm, k * VoiceCodec.FRAME_SAMPLES, (k + 1) * VoiceCodec.FRAME_SAMPLES);
                MediaPacket p = sender.next(f);
                if (rnd.nextDouble() >= loss) net.add(new Arrival(now + 20 + rnd.nextInt(30), p));
            }
            while (!net.isEmpty() && net.peek().at <= now) receiver.offer(net.poll().p, now);
            short[] played = receiver.pull(now);
            System.arraycopy(played, 0, out, k * VoiceCodec.FRAME_SAMPLES, VoiceCodec.FRAME_SAMPLES);
        }
        return new Run(out, receiver.stats(), sender.bitrate());
    }

    static short[] speech(Path dir) throws Exception {
        Path wav = dir.resolve("speech.wav");
        Process p = new ProcessBuilder("espeak-ng", "-s", "150", "-w", wav.toString(),
                "The quick brown fox jumps over the lazy dog. Parley calls go peer to peer first, with relays as backup.")
                .redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isZero();
        return Wav.read(wav);
    }

    static boolean onPath(String cmd) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(":")) if (Files.isExecutable(Path.of(d, cmd))) return true;
        return false;
    }

    private static void check(String what, short[] sent, double loss, double minEnvelope) {
        Run r = run(sent, loss, false, 1234);
        SignalAnalysis.Comparison all = SignalAnalysis.compare(sent, r.received(), 48_000 / 2);
        int half = sent.length / 2;
        SignalAnalysis.Comparison first = SignalAnalysis.compare(Arrays.copyOf(sent, half), r.received(), 48_000 / 2);
        short[] secondSent = Arrays.copyOfRange(sent, half, sent.length);
        short[] secondRecv = Arrays.copyOfRange(r.received(), half, r.received().length);
        SignalAnalysis.Comparison second = SignalAnalysis.compare(secondSent, secondRecv, 48_000 / 2);
        AudioReceiver.Stats s = r.stats();
        System.out.printf("MEDIA %s loss=%.0f%%: delay %.1f ms (halves %.1f / %.1f), SNR %.1f dB, envelope r=%.3f, lost %d "
                        + "(recovered by FEC %d, concealed %d), jitter %.1f ms, buffer %.1f ms, %d bps%n", what, loss * 100,
                all.delayMillis(), first.delayMillis(), second.delayMillis(), all.snrDb(), all.envelopeCorrelation(), s.lost(),
                s.recovered(), s.concealed(), s.jitterMillis(), s.meanBufferDelayMillis(), r.bitrate());
        // aligned: one delay, within the network delay + buffer + codec delay, the same in both halves
        assertThat(all.delayMillis()).isBetween(20.0, 200.0);
        // the buffer adapts in whole frames: under loss and jitter it may have grown by a frame or two since the start
        assertThat(Math.abs(first.delayMillis() - second.delayMillis())).as("alignment drift").isLessThanOrEqualTo(41.0);
        assertThat(all.envelopeCorrelation()).as("envelope correlation").isGreaterThan(minEnvelope);
        if (loss > 0) {
            assertThat(s.lost()).isPositive();
            assertThat(s.recovered()).as("FEC recoveries").isPositive();
        }
    }

    /** The sweep in 250 ms bursts, so that its loudness envelope has a shape to compare. */
    static short[] pulsed(short[] x) {
        short[] out = x.clone();
        for (int i = 0; i < out.length; i++) if ((i / 12_000) % 2 == 1) out[i] = (short) (out[i] / 8);
        return out;
    }

    @Test
    void sweepSurvivesLossAligned() {
        short[] sweep = pulsed(SignalAnalysis.sweep(4, 200, 4000, 0.5));
        check("sweep", sweep, 0, 0.95);
        check("sweep", sweep, 0.05, 0.85);
        check("sweep", sweep, 0.15, 0.7);
        // at 0 % loss the waveform itself comes through
        Run r = run(sweep, 0, false, 1);
        assertThat(SignalAnalysis.compare(sweep, r.received(), 24_000).snrDb()).isGreaterThan(6);
    }

    @Test
    void speechFromEspeakSurvivesLossAligned() throws Exception {
        assumeTrue(onPath("espeak-ng"), "skipped: espeak-ng is not installed (apt-get install espeak-ng; .ci/run does this)");
        short[] speech = speech(dir);
        check("speech", speech, 0, 0.9);
        check("speech", speech, 0.05, 0.85);
        check("speech", speech, 0.15, 0.75);
        Run low = run(speech, 0.05, true, 7);
        System.out.printf("MEDIA speech low-bandwidth: %d bps%n", low.bitrate());
        assertThat(low.bitrate()).isBetween(6_000L, 12_500L);
        assertThat(SignalAnalysis.compare(speech, low.received(), 24_000).envelopeCorrelation()).isGreaterThan(0.8);
    }

    @Test
    void jitterBufferReordersDropsDuplicatesAndLateAndAdapts() {
        AudioSender s = new AudioSender(1, false);
        List<MediaPacket> ps = new ArrayList<>();
        short[] silence = new short[VoiceCodec.FRAME_SAMPLES];
        for (int i = 0; i < 6; i++) ps.add(s.next(silence));
        JitterBuffer jb = new JitterBuffer();
        jb.offer(ps.get(0), 0);
        jb.offer(ps.get(2), 1);
        jb.offer(ps.get(1), 2); // reordered
        jb.offer(ps.get(1), 3); // duplicate
        assertThat(jb.duplicates()).isEqualTo(1);
        assertThat(jb.next(20)).isInstanceOf(JitterBuffer.Decision.Play.class);
        assertThat(((JitterBuffer.Decision.Play) jb.next(40)).packet().sequence()).isEqualTo(1);
        assertThat(((JitterBuffer.Decision.Play) jb.next(60)).packet().sequence()).isEqualTo(2);
        // 3 never comes; 4 is here: recover 3 from 4's FEC
        jb.offer(ps.get(4), 70);
        assertThat(jb.next(80)).isInstanceOf(JitterBuffer.Decision.Recover.class);
        jb.offer(ps.get(3), 85); // too late now
        assertThat(jb.late()).isEqualTo(1);
        assertThat(jb.next(100)).isInstanceOf(JitterBuffer.Decision.Play.class);
        assertThat(jb.next(120)).isEqualTo(new JitterBuffer.Decision.Conceal(true)); // dry: wait for 5
        // jitter grows the target
        JitterBuffer calm = new JitterBuffer(), rough = new JitterBuffer();
        AudioSender s2 = new AudioSender(2, false);
        Random r = new Random(3);
        for (int k = 0; k < 200; k++) {
            MediaPacket p = s2.next(silence);
            calm.offer(p, k * 20L + 30);
            rough.offer(p, k * 20L + 30 + r.nextInt(60));
        }
        assertThat(calm.targetFrames()).isEqualTo(1);
        assertThat(rough.targetFrames()).isGreaterThan(2);
    }

    @Test
    void sequenceNumbersWrap() {
        JitterBuffer jb = new JitterBuffer();
        byte[] opus = new VoiceCodec.Encoder(false).encode(new short[VoiceCodec.FRAME_SAMPLES]);
        long base = 0xffffffffL - 1;
        for (int i = 0; i < 4; i++) jb.offer(new MediaPacket(0, 1, (base + i) & 0xffffffffL, (i * 960L), opus), i * 20L);
        int played = 0;
        for (int i = 0; i < 6; i++) if (jb.next(20 + i * 20L) instanceof JitterBuffer.Decision.Play) played++;
        assertThat(played).isEqualTo(4);
        assertThat(jb.lost()).isZero();
    }

    @Test
    void wavRoundTripResamplingAndBadFiles() throws Exception {
        short[] tone = new short[48_000];
        for (int i = 0; i < tone.length; i++) tone[i] = (short) (10_000 * Math.sin(2 * Math.PI * 1000 * i / 48_000.0));
        Path f = dir.resolve("t.wav");
        Wav.write(f, tone);
        assertThat(Wav.read(f)).containsExactly(tone);
        // a 22,050 Hz file (as espeak-ng writes) comes back at 48 kHz with the tone at the same pitch
        javax.sound.sampled.AudioFormat fmt = new javax.sound.sampled.AudioFormat(22_050f, 16, 1, true, false);
        byte[] pcm = new byte[22_050 * 2];
        for (int i = 0; i < 22_050; i++) {
            short v = (short) (10_000 * Math.sin(2 * Math.PI * 1000 * i / 22_050.0));
            pcm[2 * i] = (byte) v;
            pcm[2 * i + 1] = (byte) (v >> 8);
        }
        Path g = dir.resolve("g.wav");
        javax.sound.sampled.AudioSystem.write(new javax.sound.sampled.AudioInputStream(new java.io.ByteArrayInputStream(pcm), fmt, 22_050),
                javax.sound.sampled.AudioFileFormat.Type.WAVE, g.toFile());
        short[] up = Wav.read(g);
        assertThat(up.length).isBetween(47_900, 48_000);
        int crossings = 0;
        for (int i = 1000; i < 47_000; i++) if (up[i - 1] < 0 && up[i] >= 0) crossings++;
        assertThat(crossings).isBetween(955, 965); // 1 kHz over 46,000 samples
        Path junk = dir.resolve("junk.wav");
        Files.writeString(junk, "not audio");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Wav.read(junk)).isInstanceOf(java.io.IOException.class)
                .hasMessageContaining("not a WAV file");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Wav.read(dir.resolve("missing.wav"))).hasMessageContaining("is not a file");
    }

    @Test
    void cpuPerSecondOfAudio() {
        short[] sweep = SignalAnalysis.sweep(10, 200, 4000, 0.5);
        run(sweep, 0, false, 1); // warm-up
        long t0 = System.nanoTime();
        run(sweep, 0.05, false, 2);
        double perSecond = (System.nanoTime() - t0) / 1e6 / 10;
        System.out.printf("MEDIA cpu: %.1f ms of CPU per second of audio (encode + decode + buffer), %.1f%% of one core%n",
                perSecond, perSecond / 10);
    }
}
