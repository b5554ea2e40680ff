package org.parley.identity;

import java.net.InetSocketAddress;

/** A validated {@code host:port} pair as written in network files and on the command line. */
public record HostPort(String host, int port) {
    public HostPort {
        if (host == null || host.isBlank()) throw new IllegalArgumentException("host is empty");
        if (port < 0 || port > 65535) throw new IllegalArgumentException("port " + port + " is out of range 0-65535");
    }

    /** Parses {@code host:port} or {@code [v6]:port}; throws IllegalArgumentException with a one-line reason. */
    public static HostPort parse(String text) {
        if (text == null) throw new IllegalArgumentException("address is missing");
        String s = text.trim();
        int colon = s.lastIndexOf(':');
        if (colon <= 0 || colon == s.length() - 1) {
            throw new IllegalArgumentException("address '" + text + "' is not HOST:PORT");
        }
        String host = s.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
        int port;
        try {
            port = Integer.parseInt(s.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("address '" + text + "' has a port that is not a number");
        }
        if (port < 0 || port > 65535) throw new IllegalArgumentException("address '" + text + "' has a port out of range 0-65535");
        return new HostPort(host, port);
    }

    public static HostPort of(InetSocketAddress a) {
        String h = a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
        return new HostPort(h, a.getPort());
    }

    public InetSocketAddress toSocketAddress() {
        return new InetSocketAddress(host, port);
    }

    @Override
    public String toString() {
        return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
    }
}
