package org.parley.sim;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Command line: {@code --scenario churn|outage2010|outage2007|partition|all --supernodes N --clients M --seed S
 * [--minutes T] [--loss P] [--hello-timeout MS] [--markdown FILE]}. Prints the figures table; exit code 0, 2 with
 * a one-line message for bad arguments, 1 if a run fails.
 */
public final class SimMain {
    static final String USAGE = "usage: sim --scenario churn|outage2010|outage2007|partition|all [--supernodes N] [--clients M]"
            + " [--seed S] [--minutes T] [--loss P] [--hello-timeout MS] [--markdown FILE]";

    /** Parsed arguments. */
    record Args(List<String> scenarios, int supernodes, int clients, long seed, Double minutes, double loss,
                long helloTimeout, Path markdown) {}

    static final class BadArgs extends Exception {
        BadArgs(String m) {
            super(m);
        }
    }

    public static void main(String[] argv) {
        System.exit(run(argv));
    }

    static int run(String[] argv) {
        Args a;
        try {
            a = parse(argv);
        } catch (BadArgs e) {
            System.err.println("sim: " + e.getMessage());
            System.err.println(USAGE);
            return 2;
        }
        try {
            for (String s : a.scenarios()) {
                SimConfig cfg = SimConfig.of(a.supernodes(), a.clients(), a.seed()).withLoss(a.loss())
                        .withHelloTimeoutMillis(a.helloTimeout());
                ScenarioResult r = switch (s) {
                    case "churn" -> Scenarios.churn(cfg, a.minutes() == null ? 60 : a.minutes());
                    case "outage2010" -> Scenarios.outage2010(cfg, a.minutes() == null ? 10 : a.minutes());
                    case "outage2007" -> Scenarios.outage2007(cfg, a.minutes() == null ? 10 : a.minutes());
                    case "partition" -> Scenarios.partition(cfg, a.minutes() == null ? 10 : a.minutes());
                    default -> throw new IllegalStateException("unknown scenario " + s);
                };
                System.out.print(FiguresTable.text(r));
                System.out.println(Targets.verdict(r));
                System.out.flush();
                if (a.markdown() != null) {
                    Files.writeString(a.markdown(), FiguresTable.markdown(r) + "Targets: " + Targets.verdict(r) + "\n\n",
                            StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
                }
            }
            return 0;
        } catch (IOException e) {
            System.err.println("sim: cannot write figures: " + e.getMessage());
            return 1;
        } catch (RuntimeException | OutOfMemoryError e) {
            System.err.println("sim: run failed: " + e);
            return 1;
        }
    }

    static Args parse(String[] argv) throws BadArgs {
        List<String> scenarios = null;
        int sn = 1000, cl = 100_000;
        long seed = 1;
        Double minutes = null;
        double loss = 0.005;
        long hello = 1000;
        Path md = null;
        for (int i = 0; i < argv.length; i++) {
            String k = argv[i];
            if (k.equals("-h") || k.equals("--help")) throw new BadArgs("help requested");
            if (!k.startsWith("--")) throw new BadArgs("unexpected argument '" + k + "'");
            if (i + 1 >= argv.length) throw new BadArgs("option " + k + " needs a value");
            String v = argv[++i];
            switch (k) {
                case "--scenario" -> {
                    v = v.toLowerCase(Locale.ROOT);
                    scenarios = switch (v) {
                        case "all" -> List.of("churn", "outage2010", "outage2007", "partition");
                        case "churn", "outage2010", "outage2007", "partition" -> List.of(v);
                        default -> throw new BadArgs("unknown scenario '" + v + "' (churn, outage2010, outage2007, partition or all)");
                    };
                }
                case "--supernodes" -> sn = (int) number(k, v, 2, 1_000_000);
                case "--clients" -> cl = (int) number(k, v, 1, 10_000_000);
                case "--seed" -> seed = number(k, v, Long.MIN_VALUE, Long.MAX_VALUE);
                case "--minutes" -> minutes = decimal(k, v, 0.1, 10_000);
                case "--loss" -> loss = decimal(k, v, 0, 0.99);
                case "--hello-timeout" -> hello = number(k, v, 10, 600_000);
                case "--markdown" -> md = Path.of(v);
                default -> throw new BadArgs("unknown option " + k);
            }
        }
        if (scenarios == null) throw new BadArgs("--scenario is required");
        return new Args(new ArrayList<>(scenarios), sn, cl, seed, minutes, loss, hello, md);
    }

    private static long number(String k, String v, long min, long max) throws BadArgs {
        long n;
        try {
            n = Long.parseLong(v.replace("_", "").replace(",", ""));
        } catch (NumberFormatException e) {
            throw new BadArgs(k + " needs a whole number, not '" + v + "'");
        }
        if (n < min || n > max) throw new BadArgs(k + " must be in " + min + ".." + max);
        return n;
    }

    private static double decimal(String k, String v, double min, double max) throws BadArgs {
        double d;
        try {
            d = Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new BadArgs(k + " needs a number, not '" + v + "'");
        }
        if (!(d >= min && d <= max)) throw new BadArgs(k + " must be in " + min + ".." + max);
        return d;
    }
}
