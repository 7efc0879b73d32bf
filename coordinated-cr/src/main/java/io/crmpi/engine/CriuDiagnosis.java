package io.crmpi.engine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The CRIU and kernel failures users meet most, recognised in CRIU's log:
 * each gives one line with the cause and what to do, and names its section
 * of docs/troubleshooting.md. The patterns are CRIU 4.x's own messages
 * (criu/files-ext.c, sk-unix.c, sk-inet.c, sockets.c, proc_parse.c,
 * kerndat.c, protobuf.c, page-xfer.c, bfd.c, cr-restore.c,
 * compel/src/lib/infect.c); a log none of them matches gets no diagnosis,
 * only its error lines.
 */
public final class CriuDiagnosis {
  /** One known failure: the first pattern that finds a match in a log line decides. */
  record Known(String anchor, Pattern pattern, String cause, String fix) {
    String describe(Matcher m) {
      String c = cause;
      for (int g = 1; g <= m.groupCount(); g++) {
        c = c.replace("$" + g, m.group(g) == null ? "?" : m.group(g));
      }
      return c + "; " + fix + " (docs/troubleshooting.md#" + anchor + ")";
    }
  }

  static final List<Known> KNOWN = List.of(
      new Known("no-space", Pattern.compile("(No space left on device|Disk quota exceeded)$"
          + "|Unable to spice data|Error flushing image|Img trimmed"),
          "the disk CRIU wrote the images to (the state directory, or the node-local directory of --local-dir)"
              + " ran out of space (or quota)",
          "free space there, or give the job a --state-dir or --local-dir with room; the job runs on, and its last"
              + " committed checkpoint is intact"),
      new Known("device-mapping", Pattern.compile("Can't handle non-regular mapping on (\\d+)'s map ([0-9a-f]+)"
          + "|Unsupported mapping found|handle_device_vma plugin failed"),
          "a process of the job has a device mapped into its memory (a GPU, an InfiniBand/RDMA adapter, or a"
              + " perf or io_uring ring), which CRIU cannot checkpoint",
          "run the job's MPI over TCP and shared memory (Open MPI: --mca pml ob1 --mca btl tcp,vader,self; MPICH:"
              + " FI_PROVIDER=tcp) and keep GPUs out of the checkpointed processes"),
      new Known("unsupported-file", Pattern.compile(
          "Can't dump file (\\d+) of that type \\[[0-7]+\\] \\((anon|chr|reg|unknown) (.*)\\)$"),
          "the job holds a file CRIU cannot checkpoint (descriptor $1: $2 $3)",
          "close it before the job is checkpointed: perf events, io_uring, BPF, userfaultfd and character devices"
              + " such as GPUs or InfiniBand cannot be saved"),
      new Known("external-socket", Pattern.compile("External socket is used\\. Consider using --ext-unix-sk"
          + "|External socket found in image|Can't dump half of stream unix connection"
          + "|Can't dump name-less external socket"),
          "a process of the job keeps a Unix socket connected to a process outside the job (a system daemon such"
              + " as syslog, journald, nscd or sssd, or an X server)",
          "have the job close such connections before its checkpoints (log to a file, not to syslog; no desktop"
              + " session inside the job)"),
      new Known("unsupported-socket", Pattern.compile("Unsupported proto (\\d+) for socket"
          + "|Unknown socket collected \\(family (\\d+)\\)|Only stream, dgram and raw are supported"
          + "|Unsupported type \\(\\d+\\) on socket|Sockets \\(family \\d+ proto \\d+\\) are not collected"),
          "the job uses a kind of socket CRIU cannot checkpoint (SCTP, MPTCP, AF_ALG, vsock, Bluetooth, or a"
              + " protocol whose sock_diag module is not loaded)",
          "use TCP or Unix sockets (Go programs: GODEBUG=multipathtcp=0), or ask the admin to load the"
              + " sock_diag modules (inet_diag, tcp_diag, udp_diag, unix_diag, netlink_diag, packet_diag)"),
      new Known("kernel-feature", Pattern.compile("(\\w+) failed when initializing kerndat\\."
          + "|Can't open -?\\d+/map_files on procfs|suspending seccomp failed: Invalid argument"
          + "|kernel lacks get_rseq_conf|kernel doesn't support|kcmp failed: .*Function not implemented"),
          "this node's kernel lacks a feature CRIU needs",
          "the admin runs 'criu check --all' as root on this node and builds the kernel with what it reports"
              + " missing (CONFIG_CHECKPOINT_RESTORE, CONFIG_MEM_SOFT_DIRTY, CONFIG_INET_DIAG, ...)"),
      new Known("pid-in-use", Pattern.compile("Can't fork for (\\d+): File exists"
          + "|Unable to create a thread: -17|Pid \\d+ do not match expected \\d+"),
          "a process id the image needs is already taken on this node",
          "a process of an earlier run of the job is still alive in its tree's namespace: let crmpi fence the"
              + " node ('crmpi restart' does) or ask the admin to end what runs there"),
      new Known("ptrace-denied", Pattern.compile("Unable to interrupt task: (\\d+) \\((Operation not permitted"
          + "|Permission denied)\\)|Can't attach to (\\d+): Operation not permitted"
          + "|Can't fork for \\d+: Operation not permitted"),
          "CRIU was not allowed to stop and inspect the job's processes",
          "the admin allows crmpid's CRIU to ptrace: kernel.yama.ptrace_scope at most 2, and no AppArmor or"
              + " SELinux policy that denies criu ptrace"));

  private CriuDiagnosis() {}

  /** The diagnosis of the first known failure in lines, if any. */
  public static Optional<String> explain(List<String> lines) {
    for (String line : lines) {
      for (Known k : KNOWN) {
        Matcher m = k.pattern().matcher(line);
        if (m.find()) {
          return Optional.of(k.describe(m));
        }
      }
    }
    return Optional.empty();
  }

  /**
   * What to add to a failed dump's or restore's message: the diagnosis (when
   * the log shows a known failure), CRIU's error lines and where its log is.
   */
  public static String report(Path log) {
    List<String> lines;
    try {
      lines = Files.readAllLines(log);
    } catch (IOException e) {
      return " (no log at " + log + ")";
    }
    String why = explain(lines).map(d -> ": " + d).orElse("");
    return why + io.crmpi.nativeio.Criu.errorLines(log);
  }

  /**
   * As {@link #report(Path)} for a dump into imagesDir; when the log names
   * no known failure and the disk of imagesDir is full (CRIU's log, written
   * there too, may then be cut short), that is the diagnosis.
   */
  public static String report(Path log, Path imagesDir) {
    String r = report(log);
    if (r.startsWith(": ")) {
      return r;
    }
    try {
      if (Files.getFileStore(imagesDir).getUsableSpace() < FULL_BELOW) {
        Known noSpace = KNOWN.get(0);
        return ": " + noSpace.cause() + " (" + Files.getFileStore(imagesDir).getUsableSpace() + " bytes left); "
            + noSpace.fix() + " (docs/troubleshooting.md#" + noSpace.anchor() + ")" + r;
      }
    } catch (IOException | RuntimeException e) {
      // no better diagnosis
    }
    return r;
  }

  /** A disk with less room than this is full for a dump (a page image needs more). */
  static final long FULL_BELOW = 1 << 20;
}
