package io.crmpi.engine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A node tree's place on the job network of a multi-node job: a veth pair
 * whose outer end (hostInterface) stays on the host, attached to bridge,
 * and whose inner end ("crmpi0") carries the address of the tree's node
 * slot. The address belongs to the slot, not to the host: the tree keeps it
 * when it is restored on another host (CRIU restores it with the network
 * namespace), which is what its TCP connections need.
 *
 * @param hostInterface the outer veth name, unique on the host (at most 15 characters)
 * @param bridge the host bridge that carries the job network between hosts
 * @param address the slot's address with prefix length, e.g. 10.213.4.1/16
 */
public record JobNetwork(String hostInterface, String bridge, String address) {
  /** The name of the job network's interface inside every node tree. */
  public static final String INNER_INTERFACE = "crmpi0";
  private static final Pattern IFNAME = Pattern.compile("[A-Za-z0-9_.-]{1,15}");
  private static final Pattern CIDR = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}/\\d{1,2}");

  public JobNetwork {
    Objects.requireNonNull(hostInterface, "hostInterface");
    Objects.requireNonNull(bridge, "bridge");
    Objects.requireNonNull(address, "address");
    if (!IFNAME.matcher(hostInterface).matches()) {
      throw new IllegalArgumentException("bad interface name '" + hostInterface + "': 1-15 of [A-Za-z0-9_.-]");
    }
    if (!IFNAME.matcher(bridge).matches()) {
      throw new IllegalArgumentException("bad bridge name '" + bridge + "': 1-15 of [A-Za-z0-9_.-]");
    }
    if (!CIDR.matcher(address).matches()) {
      throw new IllegalArgumentException("bad address '" + address + "': expected IPv4/prefix, e.g. 10.213.0.1/16");
    }
  }

  /**
   * Waits until the host interface name is free again. A tree that just
   * died still holds its veth for a moment (the kernel tears a network
   * namespace down asynchronously); after timeout the stale veth (this
   * slot's own: the name is the job's and the slot's) is deleted.
   */
  public void awaitHostInterfaceFree(Duration timeout) throws IOException {
    Path sys = Path.of("/sys/class/net", hostInterface);
    long deadline = System.nanoTime() + timeout.toNanos();
    while (Files.exists(sys) && System.nanoTime() < deadline) {
      sleep();
    }
    if (!Files.exists(sys)) {
      return;
    }
    try {
      ProcessBuilder pb = new ProcessBuilder(systemIp(), "link", "delete", hostInterface).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD);
      pb.environment().clear();
      pb.environment().put("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
      pb.start().waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (int i = 0; i < 100 && Files.exists(sys); i++) {
      sleep();
    }
    if (Files.exists(sys)) {
      throw new IOException("the job network interface " + hostInterface + " is still in use on this"
          + " host (a previous node tree of the slot?); 'ip link delete " + hostInterface + "' frees it");
    }
  }

  /** The system's ip, never one found through the caller's PATH. */
  private static String systemIp() throws IOException {
    for (String dir : new String[] {"/usr/sbin", "/usr/bin", "/sbin", "/bin"}) {
      Path ip = Path.of(dir, "ip");
      if (Files.isExecutable(ip)) {
        return ip.toString();
      }
    }
    throw new IOException("ip (iproute2) not found in /usr/sbin, /usr/bin, /sbin or /bin: install iproute2");
  }

  private static void sleep() throws IOException {
    try {
      Thread.sleep(50);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while waiting for the job network interface");
    }
  }

  /** The address without its prefix length. */
  public String ip() {
    return address.substring(0, address.indexOf('/'));
  }
}
