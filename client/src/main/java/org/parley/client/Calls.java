package org.parley.client;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.random.RandomGenerator;
import javax.sound.sampled.SourceDataLine;
import javax.sound.sampled.TargetDataLine;
import org.parley.media.AudioReceiver;
import org.parley.media.AudioSender;
import org.parley.media.VoiceCodec;
import org.parley.media.call.CallAgent;
import org.parley.media.call.CallAgent.Effect;
import org.parley.media.io.Wav;
import org.parley.protocol.CallReason;
import org.parley.protocol.Frame;
import org.parley.protocol.MediaPacket;
import org.parley.protocol.WireFormatException;
import org.parley.transport.Connection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon's calls: the pure {@link CallAgent} on the worker thread, signalling sent over the peer session (else
 * sealed through the supernode), and per connected call a media session on its own 20 ms clock: audio from a WAV
 * file, the microphone or silence, Opus packets as QUIC datagrams on whatever path the peer session has now (direct,
 * else relayed: a path change mid-call does not drop the call), playout into a WAV file or the speaker.
 */
public final class Calls implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Calls.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** A connected call with no media from the peer for this long ends as failed. */
    static final long MEDIA_SILENCE_MILLIS = 15_000;

    /** What the daemon does for calls. Worker thread unless noted. */
    interface Net {
        /** Sends a signalling frame to a device: its session, else sealed through the supernode. */
        boolean send(String device, Frame f);

        /** Starts a peer session with this device if there is none (for media). */
        void ensureSession(String device);

        /** The device's session now, or null. Any thread. */
        Connection session(String device);

        /** {@link #ensureSession} from any thread (at most every few seconds per device). */
        void ensureSessionAsync(String device);
    }

    /** Where a call's audio comes from and goes to; null file: microphone / speaker, else silence / nowhere. */
    public record MediaOptions(Path play, Path record, int durationSeconds, boolean lowBandwidth) {
        public static final MediaOptions DEFAULT = new MediaOptions(null, null, 0, false);
    }

    /** A call for the API: the agent's view plus the media figures once connected. */
    public record View(String id, String direction, String peer, String peerDevice, String state, String reason, String endedBy,
                boolean lowBandwidth, long startedAt, long ringingAt, long connectedAt, long endedAt, long durationMillis,
                String path, int pathChanges, long rttMillis, double jitterMillis, double lossPercent, long lost,
                long recovered, long concealed, long bitrateOut, long bitrateIn, long packetsSent, long packetsReceived,
                double bufferDelayMillis) {}

    private final CallAgent agent;
    private final Net net;
    private final Clock clock;
    private final Path home;
    private final ScheduledExecutorService worker;
    private final ScheduledExecutorService mediaClock;
    private final Consumer<View> onChange;
    private final double dropShare;
    private final Map<String, MediaOptions> options = new ConcurrentHashMap<>();
    private final Map<String, MediaSession> sessions = new ConcurrentHashMap<>();
    private final Map<Long, MediaSession> byCallField = new ConcurrentHashMap<>();
    private final Map<String, View> finished = new ConcurrentHashMap<>();

    Calls(String user, String device, Clock clock, RandomGenerator random, Path home, ScheduledExecutorService worker,
          Net net, Consumer<View> onChange, double dropShare) {
        this.agent = new CallAgent(user, device, CallAgent.Config.defaults(), clock, random);
        this.net = net;
        this.clock = clock;
        this.home = home;
        this.worker = worker;
        this.onChange = onChange;
        this.dropShare = dropShare;
        this.mediaClock = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "call-media-" + user);
            t.setDaemon(true);
            t.setPriority(Thread.MAX_PRIORITY); // media before chat sync and file traffic
            return t;
        });
        worker.scheduleWithFixedDelay(() -> apply(agent.tick()), 250, 250, TimeUnit.MILLISECONDS);
    }

    // ------------------------------------------------------------------ commands (worker thread)

    String dial(String user, List<String> devices, MediaOptions o) {
        CallAgent.Dialed d = agent.dial(user, devices, o.lowBandwidth());
        options.put(d.callId(), o);
        for (String dev : devices) net.ensureSession(dev);
        apply(d.effects());
        return d.callId();
    }

    void answer(String id, MediaOptions o) {
        options.put(id, o);
        List<Effect> e = agent.answer(id);
        agent.call(id).ifPresent(c -> net.ensureSession(c.peerDevice()));
        apply(e);
    }

    void reject(String id) {
        apply(agent.reject(id));
    }

    void hangup(String id) {
        apply(agent.hangup(id));
    }

    void onFrame(String fromDevice, String fromUser, Frame f) {
        apply(agent.onFrame(fromDevice, fromUser, f));
    }

    Optional<CallAgent.Call> active() {
        return agent.active();
    }

    List<View> views() {
        List<View> out = new ArrayList<>();
        for (CallAgent.Call c : agent.calls()) out.add(view(c));
        return out;
    }

    Optional<View> view(String id) {
        return agent.call(id).map(this::view);
    }

    private View view(CallAgent.Call c) {
        View done = finished.get(c.id());
        if (done != null && c.state() == CallAgent.State.ENDED) return done;
        MediaSession m = sessions.get(c.id());
        return m != null ? m.view(c) : bare(c);
    }

    private View bare(CallAgent.Call c) {
        return new View(c.id(), c.direction().name().toLowerCase(), c.peerUser(), c.peerDevice(), c.state().name().toLowerCase(),
                c.reason() == null ? null : c.reason().wireName(), c.endedBy(), c.lowBandwidth(), c.startedAt(), c.ringingAt(),
                c.connectedAt(), c.endedAt(), 0, null, 0, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    }

    // ------------------------------------------------------------------ effects (worker thread)

    private void apply(List<Effect> effects) {
        for (Effect e : effects) {
            try {
                switch (e) {
                    case Effect.Send s -> {
                        if (!net.send(s.toDevice(), s.frame())) log.info("cannot reach device {} for call signalling", s.toDevice());
                    }
                    case Effect.Ring r -> log.info("incoming call {} from {}", r.callId(), r.fromUser());
                    case Effect.StopRinging r -> { }
                    case Effect.StartMedia m -> startMedia(m);
                    case Effect.StopMedia m -> stopMedia(m.callId());
                    case Effect.Changed c -> {
                        if (c.call().state() == CallAgent.State.ENDED) stopMedia(c.call().id());
                        View v = view(c.call());
                        if (c.call().state() == CallAgent.State.ENDED) record(v);
                        onChange.accept(v);
                    }
                }
            } catch (RuntimeException ex) {
                log.warn("call effect {} failed: {}", e.getClass().getSimpleName(), ex.toString());
            }
        }
    }

    private void startMedia(Effect.StartMedia m) {
        MediaOptions o = options.getOrDefault(m.callId(), MediaOptions.DEFAULT);
        net.ensureSession(m.peerDevice());
        MediaSession s;
        try {
            s = new MediaSession(m.callId(), m.peerDevice(), o, m.lowBandwidth());
        } catch (IOException ex) {
            log.warn("call {}: {}", m.callId(), ex.getMessage());
            apply(agent.hangup(m.callId(), CallReason.FAILED));
            return;
        }
        sessions.put(m.callId(), s);
        byCallField.put(s.callField, s);
        s.start();
    }

    private void stopMedia(String id) {
        MediaSession s = sessions.remove(id);
        if (s == null) return;
        byCallField.remove(s.callField);
        s.stop();
        agent.call(id).ifPresent(c -> finished.put(id, s.view(c)));
    }

    private void record(View v) {
        finished.put(v.id(), v);
        try {
            Files.writeString(home.resolve("calls.jsonl"), JSON.writeValueAsString(v) + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException ex) {
            log.debug("cannot append to calls.jsonl: {}", ex.getMessage());
        }
    }

    /** Calls of earlier runs of the daemon (calls.jsonl), oldest first. */
    List<View> history() {
        List<View> out = new ArrayList<>();
        Path f = home.resolve("calls.jsonl");
        if (!Files.exists(f)) return out;
        try {
            for (String l : Files.readAllLines(f, StandardCharsets.UTF_8)) {
                try {
                    out.add(JSON.readValue(l, View.class));
                } catch (IOException ex) {
                    // a torn last line after a crash
                }
            }
        } catch (IOException ex) {
            log.debug("cannot read calls.jsonl: {}", ex.getMessage());
        }
        return out;
    }

    // ------------------------------------------------------------------ media (network and media threads)

    /** A media datagram from a peer connection (event loop thread). */
    void onDatagram(Connection c, byte[] data) {
        MediaPacket p;
        try {
            p = MediaPacket.decode(data);
        } catch (WireFormatException e) {
            return; // garbage: counted by nothing, costs nothing
        }
        if (p == null) return;
        MediaSession s = byCallField.get(p.call());
        if (s == null || !s.peerDevice.equals(c.peer().deviceId())) return;
        s.received(p);
    }

    private final class MediaSession {
        final String id;
        final long callField;
        final String peerDevice;
        final MediaOptions options;
        final AudioSender sender;
        final AudioReceiver receiver = new AudioReceiver();
        final short[] play;
        int playAt;
        final Wav.Writer recorder;
        final TargetDataLine mic;
        final SourceDataLine speaker;
        final long started;
        volatile long lastHeard;
        ScheduledFuture<?> tick;
        String path;
        int pathChanges;
        volatile long rtt = -1;
        long sentPackets;
        long ticks;

        MediaSession(String id, String peerDevice, MediaOptions o, boolean lowBandwidth) throws IOException {
            this.id = id;
            this.callField = MediaPacket.callField(java.util.HexFormat.of().parseHex(id));
            this.peerDevice = peerDevice;
            this.options = o;
            this.sender = new AudioSender(callField, lowBandwidth);
            this.play = o.play() == null ? null : Wav.read(o.play());
            this.recorder = o.record() == null ? null : new Wav.Writer(o.record());
            this.mic = o.play() == null ? SoundDevices.microphone() : null;
            this.speaker = o.record() == null ? SoundDevices.speaker() : null;
            this.started = clock.millis();
            this.lastHeard = started;
        }

        void start() {
            tick = mediaClock.scheduleAtFixedRate(this::tick, 0, VoiceCodec.FRAME_MILLIS, TimeUnit.MILLISECONDS);
        }

        void received(MediaPacket p) {
            lastHeard = clock.millis();
            synchronized (receiver) {
                receiver.offer(p, System.nanoTime() / 1_000_000);
            }
        }

        private short[] capture() {
            short[] f = new short[VoiceCodec.FRAME_SAMPLES];
            if (play != null) {
                int n = Math.max(0, Math.min(f.length, play.length - playAt));
                if (n > 0) System.arraycopy(play, playAt, f, 0, n); // then silence
                playAt += f.length;
            } else if (mic != null) {
                byte[] b = new byte[f.length * 2];
                int got = mic.read(b, 0, b.length);
                SoundDevices.toShorts(b, got, f);
            }
            return f;
        }

        private void tick() {
            try {
                long now = System.nanoTime() / 1_000_000;
                ticks++;
                Connection c = net.session(peerDevice);
                if (c == null) {
                    net.ensureSessionAsync(peerDevice);
                } else {
                    // a file starts playing once there is a path to send it on
                    MediaPacket p = sender.next(capture());
                    String kind = c.relayAddress() == null ? "direct" : "relayed";
                    if (path != null && !path.equals(kind)) pathChanges++;
                    path = kind;
                    if (dropShare <= 0 || ThreadLocalRandom.current().nextDouble() >= dropShare) c.sendDatagram(p.encode());
                    sentPackets++;
                    if (ticks % 50 == 1) c.rttMillis().thenAccept(r -> rtt = r);
                }
                short[] out;
                synchronized (receiver) {
                    out = receiver.pull(now);
                    if (ticks % 250 == 0) sender.setExpectedLoss((int) Math.round(receiver.stats().lossPercent()));
                }
                if (recorder != null) recorder.write(out);
                if (recorder != null && ticks % 50 == 0) recorder.flush();
                if (speaker != null) speaker.write(SoundDevices.toBytes(out, new byte[out.length * 2]), 0, out.length * 2);
                long wall = clock.millis();
                if (options.durationSeconds() > 0 && wall - started >= options.durationSeconds() * 1000L) {
                    worker.execute(() -> hangup(id));
                } else if (wall - lastHeard > MEDIA_SILENCE_MILLIS) {
                    log.info("call {}: no media from {} for {} s; ending it", id, peerDevice, MEDIA_SILENCE_MILLIS / 1000);
                    worker.execute(() -> apply(agent.hangup(id, CallReason.FAILED)));
                }
            } catch (IOException | RuntimeException e) {
                log.warn("call {} media tick failed: {}", id, e.toString());
            }
        }

        void stop() {
            if (tick != null) tick.cancel(false);
            try {
                mediaClock.submit(() -> { }).get(2, TimeUnit.SECONDS); // let a running tick finish
            } catch (Exception ignored) {
                // stopping anyway
            }
            try {
                if (recorder != null) recorder.close();
            } catch (IOException e) {
                log.warn("call {}: cannot finish the recording: {}", id, e.getMessage());
            }
            if (mic != null) mic.close();
            if (speaker != null) speaker.close();
        }

        View view(CallAgent.Call c) {
            AudioReceiver.Stats s;
            synchronized (receiver) {
                s = receiver.stats();
            }
            long end = c.endedAt() > 0 ? c.endedAt() : clock.millis();
            return new View(c.id(), c.direction().name().toLowerCase(), c.peerUser(), c.peerDevice(), c.state().name().toLowerCase(),
                    c.reason() == null ? null : c.reason().wireName(), c.endedBy(), c.lowBandwidth(), c.startedAt(), c.ringingAt(),
                    c.connectedAt(), c.endedAt(), c.connectedAt() == 0 ? 0 : end - c.connectedAt(), path, pathChanges, rtt,
                    s.jitterMillis(), s.lossPercent(), s.lost(), s.recovered(), s.concealed(), sender.bitrate(), s.bitrate(),
                    sentPackets, s.received(), s.meanBufferDelayMillis());
        }
    }

    @Override
    public void close() {
        for (String id : List.copyOf(sessions.keySet())) stopMedia(id);
        mediaClock.shutdownNow();
    }
}
