package io.crmpi.daemon;

import io.crmpi.engine.JobNetwork;
import io.crmpi.engine.JobNetworkPlan;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * Keeps jobs apart on the shared job bridge: an nftables table of this
 * crmpid's (bridge family) lets each tree's port carry IPv4 and ARP only,
 * from the tree's own address to its job's address block, and deliver to
 * the tree only what comes from that block. So a tree can reach its own
 * job's trees on every node, and no other job's (nor the host through the
 * bridge). Every port gets two chains (from and to the tree) reached
 * through verdict maps keyed by the port's name, so a port's rules come and
 * go with its tree without touching any other.
 */
final class JobNetworkFilter {
  private static final Logger LOG = Logger.getLogger(JobNetworkFilter.class.getName());
  private static final Path NFT = Path.of("/usr/sbin/nft");
  private final String table;

  /** table: this crmpid's own table (several crmpids may share a host, as in tests). */
  JobNetworkFilter(String table) {
    if (!table.matches("[a-z][a-z0-9_]{0,30}")) {
      throw new IllegalArgumentException("bad nftables table name " + table);
    }
    this.table = table;
  }

  /** Creates the table afresh (whatever an earlier crmpid of the same name left goes: its trees died with it). */
  void install() throws IOException {
    run(setupScript(), true);
  }

  /** Opens tree's port: from now on it passes only its own job's traffic. */
  void open(JobNetwork network) throws IOException {
    close(network.hostInterface());
    run(portScript(network), true);
  }

  /** Removes a port's rules (the tree is gone); never fails. */
  void close(String hostInterface) {
    try {
      run(closeScript(hostInterface), false);
    } catch (IOException e) {
      LOG.fine("crmpid: closing the filter of " + hostInterface + ": " + e.getMessage());
    }
  }

  /** Removes the table; never fails. */
  void uninstall() {
    try {
      run("delete table bridge " + table + "\n", false);
    } catch (IOException e) {
      LOG.fine("crmpid: removing nftables table " + table + ": " + e.getMessage());
    }
  }

  String setupScript() {
    String t = "bridge " + table;
    return "add table " + t + "\n"
        + "delete table " + t + "\n"
        + "add table " + t + "\n"
        + "add map " + t + " from_tree { type ifname : verdict; }\n"
        + "add map " + t + " to_tree { type ifname : verdict; }\n"
        + "add chain " + t + " forward { type filter hook forward priority 0; policy accept; }\n"
        + "add chain " + t + " input { type filter hook input priority 0; policy accept; }\n"
        + "add rule " + t + " forward iifname vmap @from_tree\n"
        + "add rule " + t + " forward oifname vmap @to_tree\n"
        + "add rule " + t + " input iifname vmap @from_tree\n";
  }

  String portScript(JobNetwork network) {
    String port = port(network.hostInterface());
    String ip = ip(network);
    String block = JobNetworkPlan.blockOf(network.address());
    String t = "bridge " + table;
    String in = "from-" + port;
    String out = "to-" + port;
    return "add chain " + t + " " + in + "\n"
        + "add chain " + t + " " + out + "\n"
        + "add rule " + t + " " + in + " meta protocol != { ip, arp } drop\n"
        + "add rule " + t + " " + in + " ip saddr != " + ip + " drop\n"
        + "add rule " + t + " " + in + " ip daddr != " + block + " drop\n"
        + "add rule " + t + " " + in + " arp saddr ip != " + ip + " drop\n"
        + "add rule " + t + " " + in + " arp daddr ip != " + block + " drop\n"
        + "add rule " + t + " " + out + " meta protocol != { ip, arp } drop\n"
        + "add rule " + t + " " + out + " ip saddr != " + block + " drop\n"
        + "add rule " + t + " " + out + " arp saddr ip != " + block + " drop\n"
        + "add element " + t + " from_tree { \"" + port + "\" : jump " + in + " }\n"
        + "add element " + t + " to_tree { \"" + port + "\" : jump " + out + " }\n";
  }

  String closeScript(String hostInterface) {
    String port = port(hostInterface);
    String t = "bridge " + table;
    return "delete element " + t + " from_tree { \"" + port + "\" }\n"
        + "delete element " + t + " to_tree { \"" + port + "\" }\n"
        + "delete chain " + t + " from-" + port + "\n"
        + "delete chain " + t + " to-" + port + "\n";
  }

  private static String port(String hostInterface) {
    if (!hostInterface.matches("[A-Za-z0-9_.-]{1,15}")) {
      throw new IllegalArgumentException("bad interface name " + hostInterface);
    }
    return hostInterface;
  }

  private static String ip(JobNetwork network) {
    String ip = network.address().substring(0, network.address().indexOf('/'));
    if (!ip.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}")) {
      throw new IllegalArgumentException("bad address " + network.address());
    }
    return ip;
  }

  /**
   * Runs script with nft -f, one statement per line (each line alone when
   * atomic is false, so that a missing element does not stop the rest).
   */
  private void run(String script, boolean atomic) throws IOException {
    if (atomic) {
      nft(script);
      return;
    }
    IOException first = null;
    for (String line : script.split("\n")) {
      try {
        nft(line + "\n");
      } catch (IOException e) {
        first = first == null ? e : first;
      }
    }
    if (first != null) {
      throw first;
    }
  }

  private static void nft(String script) throws IOException {
    if (!Files.isExecutable(NFT)) {
      throw new IOException(NFT + " is missing: crmpid needs nftables to keep jobs apart on the job bridge"
          + " (apt install nftables)");
    }
    Process p = new ProcessBuilder(NFT.toString(), "-f", "-").redirectErrorStream(true).start();
    try (OutputStream in = p.getOutputStream()) {
      in.write(script.getBytes(StandardCharsets.UTF_8));
    }
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    try {
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException("nft did not finish within 30 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      p.destroyForcibly();
      throw new IOException("interrupted while running nft");
    }
    if (p.exitValue() != 0) {
      throw new IOException("nft failed (exit " + p.exitValue() + "): " + output);
    }
  }
}
