package io.crmpi.slurm;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Duration;
import org.apache.commons.exec.CommandLine;
import org.apache.commons.exec.DefaultExecutor;
import org.apache.commons.exec.ExecuteException;
import org.apache.commons.exec.ExecuteWatchdog;
import org.apache.commons.exec.PumpStreamHandler;

/**
 * The scontrol calls crmpi makes, through Commons Exec with a timeout. The
 * environment (SLURM_CONF in particular) is passed on unchanged.
 */
public final class Scontrol {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  private Scontrol() {}

  /**
   * Puts the job back in the queue. A job whose batch script ends cleanly
   * during a preemption's grace time would otherwise end COMPLETED.
   */
  public static void requeue(long jobId) throws IOException {
    run("requeue", Long.toString(jobId));
  }

  /** The host names of a Slurm node list ("n[1-3]" gives n1, n2, n3), in allocation order. */
  public static java.util.List<String> hostnames(String nodeList) throws IOException {
    return run("show", "hostnames", nodeList).lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
  }

  /** The address Slurm reaches node at (its NodeAddr). */
  public static String nodeAddress(String node) throws IOException {
    String out = run("show", "node", node);
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("NodeAddr=(\\S+)").matcher(out);
    if (!m.find()) {
      throw new IOException("scontrol show node " + node + " names no NodeAddr");
    }
    return m.group(1);
  }

  private static String run(String... args) throws IOException {
    CommandLine cmd = new CommandLine("scontrol");
    cmd.addArguments(args, false);
    DefaultExecutor exec = DefaultExecutor.builder().get();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    exec.setStreamHandler(new PumpStreamHandler(out));
    exec.setWatchdog(ExecuteWatchdog.builder().setTimeout(TIMEOUT).get());
    try {
      exec.execute(cmd);
      return out.toString();
    } catch (ExecuteException e) {
      throw new IOException("scontrol " + String.join(" ", args) + " failed (exit " + e.getExitValue() + "): "
          + out.toString().strip(), e);
    }
  }
}
