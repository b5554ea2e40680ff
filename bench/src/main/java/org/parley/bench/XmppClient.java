package org.parley.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.Reader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * A minimal XMPP client for the baseline comparison: one TCP (or direct-TLS) connection, stream, SASL PLAIN,
 * resource binding, initial presence, then message stanzas. Only what a 1:1 message round trip needs; the
 * stanza splitter assumes a well-behaved server (ejabberd on loopback) and is not a general XML parser.
 */
final class XmppClient implements AutoCloseable {
    /** A received chat message. */
    record Message(String from, String id, String body) {}

    private final Socket socket;
    private final OutputStream out;
    private final StanzaReader in;
    private final String jid;
    private volatile Consumer<Message> onMessage = m -> { };
    private Thread reader;

    private XmppClient(Socket socket, StanzaReader in, String jid) throws IOException {
        this.socket = socket;
        this.out = socket.getOutputStream();
        this.in = in;
        this.jid = jid;
    }

    /** Connects, authenticates and binds {@code resource}; returns with the session available. */
    static XmppClient connect(String host, int port, boolean tls, String domain, String user, String password,
                              String resource) throws IOException {
        Socket s;
        if (tls) {
            SSLSocket ss = (SSLSocket) trustAll().getSocketFactory().createSocket();
            ss.connect(new InetSocketAddress(host, port), 5000);
            ss.startHandshake();
            s = ss;
        } else {
            s = new Socket();
            s.connect(new InetSocketAddress(host, port), 5000);
        }
        s.setTcpNoDelay(true);
        s.setSoTimeout(10_000);
        try {
            OutputStream o = s.getOutputStream();
            StanzaReader r = new StanzaReader(s.getInputStream());
            write(o, openStream(domain));
            String features = r.until("features");
            if (!features.contains(">PLAIN<")) throw new IOException("server offers no SASL PLAIN: " + features);
            String creds = Base64.getEncoder().encodeToString(("\0" + user + "\0" + password).getBytes(StandardCharsets.UTF_8));
            write(o, "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" + creds + "</auth>");
            String sasl = r.next();
            if (!sasl.startsWith("<success")) throw new IOException("SASL PLAIN failed: " + sasl);
            write(o, openStream(domain));
            r.until("features");
            write(o, "<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>" + resource
                    + "</resource></bind></iq>");
            String bound = r.until("iq");
            Matcher m = Pattern.compile("<jid>([^<]+)</jid>").matcher(bound);
            if (!bound.contains("type='result'") && !bound.contains("type=\"result\"") || !m.find()) {
                throw new IOException("resource binding failed: " + bound);
            }
            write(o, "<presence/>");
            s.setSoTimeout(0);
            XmppClient c = new XmppClient(s, r, m.group(1));
            c.reader = Thread.ofVirtual().name("xmpp-" + user + "/" + resource).start(c::readLoop);
            return c;
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
    }

    private static String openStream(String domain) {
        return "<?xml version='1.0'?><stream:stream to='" + domain + "' xmlns='jabber:client' "
                + "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>";
    }

    private static SSLContext trustAll() throws IOException {
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, new TrustManager[] {new X509TrustManager() {
                @Override public void checkClientTrusted(X509Certificate[] c, String a) { }
                @Override public void checkServerTrusted(X509Certificate[] c, String a) { }
                @Override public X509Certificate[] getAcceptedIssuers() { return new X509Certificate[0]; }
            }}, new SecureRandom());
            return ctx;
        } catch (java.security.GeneralSecurityException e) {
            throw new IOException(e);
        }
    }

    String jid() {
        return jid;
    }

    void onMessage(Consumer<Message> c) {
        onMessage = c;
    }

    /** Sends a chat message; thread-safe. */
    void send(String to, String id, String body) throws IOException {
        write(out, "<message to='" + to + "' id='" + id + "' type='chat'><body>" + body + "</body></message>");
    }

    private static final Pattern FROM = Pattern.compile("\\sfrom=['\"]([^'\"]+)['\"]");
    private static final Pattern ID = Pattern.compile("\\sid=['\"]([^'\"]+)['\"]");
    private static final Pattern BODY = Pattern.compile("<body>([^<]*)</body>");

    private void readLoop() {
        try {
            while (true) {
                String st = in.next();
                if (st == null) return;
                if (!st.startsWith("<message")) continue;
                Matcher f = FROM.matcher(st);
                Matcher i = ID.matcher(st);
                Matcher b = BODY.matcher(st);
                if (f.find() && i.find() && b.find()) onMessage.accept(new Message(f.group(1), i.group(1), b.group(1)));
            }
        } catch (IOException e) {
            // closed
        }
    }

    private static void write(OutputStream o, String s) throws IOException {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        synchronized (o) {
            o.write(b);
            o.flush();
        }
    }

    @Override
    public void close() {
        try {
            write(out, "</stream:stream>");
        } catch (IOException ignored) {
            // closing anyway
        }
        try {
            socket.close();
        } catch (IOException ignored) {
            // closed
        }
    }

    /**
     * Splits the inbound character stream into top-level stanzas (children of stream:stream). The stream
     * header itself is skipped; a new header (after SASL) restarts the depth count.
     */
    static final class StanzaReader {
        private final Reader r;
        private final char[] buf = new char[8192];
        private final StringBuilder pending = new StringBuilder();

        StanzaReader(InputStream in) {
            this.r = new InputStreamReader(in, StandardCharsets.UTF_8);
        }

        /** The next stanza whose element name ends with {@code name} (other stanzas are skipped). */
        String until(String name) throws IOException {
            while (true) {
                String s = next();
                if (s == null) throw new IOException("stream closed while waiting for " + name);
                Matcher m = Pattern.compile("^<([A-Za-z0-9:_.-]+)").matcher(s);
                if (m.find() && (m.group(1).equals(name) || m.group(1).endsWith(":" + name))) return s;
            }
        }

        /** The next complete stanza, or null at end of stream. */
        String next() throws IOException {
            while (true) {
                String s = extract();
                if (s != null) return s;
                int n = r.read(buf);
                if (n < 0) return null;
                pending.append(buf, 0, n);
            }
        }

        /** Removes and returns one complete stanza from the buffer, if there is one. */
        private String extract() throws IOException {
            int depth = 0;
            int start = -1;
            int i = 0;
            while (true) {
                int lt = pending.indexOf("<", i);
                if (lt < 0) return null;
                int gt = pending.indexOf(">", lt);
                if (gt < 0) return null;
                char c = lt + 1 < pending.length() ? pending.charAt(lt + 1) : ' ';
                if (c == '?' || c == '!') {
                    if (depth == 0) {
                        pending.delete(0, gt + 1);
                        i = 0;
                    } else {
                        i = gt + 1;
                    }
                    continue;
                }
                String tag = pending.substring(lt, gt + 1);
                if (tag.startsWith("<stream:stream")) {
                    pending.delete(0, gt + 1); // stream header: not a stanza
                    i = 0;
                    depth = 0;
                    start = -1;
                    continue;
                }
                if (tag.startsWith("</stream:stream")) throw new IOException("server closed the stream");
                if (c == '/') {
                    depth--;
                    if (depth == 0) {
                        String s = pending.substring(start, gt + 1);
                        pending.delete(0, gt + 1);
                        return s;
                    }
                } else if (tag.endsWith("/>")) {
                    if (depth == 0) {
                        String s = tag;
                        pending.delete(0, gt + 1);
                        return s;
                    }
                } else {
                    if (depth == 0) start = lt;
                    depth++;
                }
                i = gt + 1;
            }
        }
    }
}
