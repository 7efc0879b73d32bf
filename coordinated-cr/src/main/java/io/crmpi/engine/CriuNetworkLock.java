package io.crmpi.engine;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The nftables table a {@code criu dump --network-lock nftables} locks TCP
 * connections with, and its removal when that criu did not remove it
 * itself (it was killed, or died).
 *
 * <p>CRIU names the table after its run id ({@code inet CRIU-<uuid>}, cut to
 * nft's 31 characters) and makes it in the tree's network namespace when the
 * tree has one of its own, or in criu's own (crmpid's) when the tree shares
 * it. In the tree's namespace nothing else makes such tables, so every one
 * goes; in crmpid's namespace only the table of this run does (other criu
 * runs on the host, crmpi's or not, may hold theirs), named by the run id
 * that criu writes at the top of its log.
 */
final class CriuNetworkLock {
  private static final Logger LOG = Logger.getLogger(CriuNetworkLock.class.getName());
  private static final Path NSENTER = Path.of("/usr/bin/nsenter");
  private static final Path NFT = Path.of("/usr/sbin/nft");
  private static final Pattern RUN_ID = Pattern.compile("CRIU run id = ([0-9a-fA-F-]{8,64})");
  /** CRIU prints "inet CRIU-<run id>" into a 32-byte buffer: the name keeps 31 - "inet ".length() characters. */
  private static final int NAME_LENGTH = 31 - "inet ".length();

  private CriuNetworkLock() {}

  /**
   * Removes what the criu run that logged to {@code log} left of its network
   * lock: every CRIU table in the network namespace of the tree rooted at
   * {@code treePid} and the run's own table in this process's namespace.
   * Never throws: a lock that cannot be removed is logged.
   */
  static void release(long treePid, Path log) {
    Path treeNet = Path.of("/proc", Long.toString(treePid), "ns", "net");
    if (Files.exists(treeNet)) {
      List<String> prefix = List.of(NSENTER.toString(), "--net=" + treeNet, NFT.toString());
      try {
        for (String table : criuTables(nft(prefix, "list", "tables"))) {
          nft(prefix, "delete", "table", "inet", table);
          LOG.warning("removed the network lock " + table + " that a criu dump left on pid " + treePid);
        }
      } catch (IOException e) {
        LOG.warning("cannot remove the network lock of a criu dump of pid " + treePid + ": " + e.getMessage());
      }
    }
    Optional<String> table = runId(log).map(CriuNetworkLock::tableName);
    if (table.isEmpty()) {
      return; // criu died before it logged its run id, long before it locks anything
    }
    List<String> own = List.of(NFT.toString());
    try {
      if (criuTables(nft(own, "list", "tables")).contains(table.get())) {
        nft(own, "delete", "table", "inet", table.get());
        LOG.warning("removed the network lock " + table.get() + " that a criu dump of pid " + treePid
            + " left in crmpid's own network namespace");
      }
    } catch (IOException e) {
      LOG.warning("cannot remove the network lock " + table.get() + " of a criu dump of pid " + treePid
          + " from crmpid's network namespace: " + e.getMessage());
    }
  }

  /** The run id criu logged ("CRIU run id = ..."), if the log has it. */
  static Optional<String> runId(Path log) {
    try {
      if (!Files.isRegularFile(log)) {
        return Optional.empty();
      }
      try (var lines = Files.lines(log, StandardCharsets.ISO_8859_1)) {
        return lines.limit(200).map(RUN_ID::matcher).filter(Matcher::find).map(m -> m.group(1)).findFirst();
      }
    } catch (IOException | java.io.UncheckedIOException e) {
      return Optional.empty();
    }
  }

  /** The name of the table criu run {@code runId} locks with. */
  static String tableName(String runId) {
    String name = "CRIU-" + runId;
    return name.length() > NAME_LENGTH ? name.substring(0, NAME_LENGTH) : name;
  }

  /** The table names "CRIU-..." of the inet family in nft list tables output. */
  static List<String> criuTables(String listing) {
    List<String> names = new ArrayList<>();
    for (String line : listing.split("\n")) {
      String[] f = line.trim().split("\\s+");
      if (f.length == 3 && f[0].equals("table") && f[1].equals("inet") && f[2].matches("CRIU-[A-Za-z0-9_.-]+")) {
        names.add(f[2]);
      }
    }
    return names;
  }

  private static String nft(List<String> prefix, String... args) throws IOException {
    List<String> cmd = new ArrayList<>(prefix);
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException(String.join(" ", cmd) + " did not finish");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
    if (p.exitValue() != 0) {
      throw new IOException(String.join(" ", cmd) + ": " + out.strip());
    }
    return out;
  }
}
