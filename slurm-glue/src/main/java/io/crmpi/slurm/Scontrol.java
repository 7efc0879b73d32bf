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
