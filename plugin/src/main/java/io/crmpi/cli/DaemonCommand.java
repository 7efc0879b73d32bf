package io.crmpi.cli;

import io.crmpi.daemon.Crmpid;
import io.crmpi.daemon.DaemonClient;
import io.crmpi.daemon.ListenAddress;
import io.crmpi.daemon.NodeKey;
import io.crmpi.engine.CriuEngine;
import io.crmpi.engine.JobNetworkPlan;
import io.crmpi.local.ExitCodes;
import io.crmpi.local.JobException;
import io.crmpi.nativeio.Criu;
import io.crmpi.nativeio.CriuInstallation;
import io.crmpi.nativeio.Posix;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code crmpi daemon} (what bin/crmpid and the systemd unit run): crmpid,
 * the node daemon that does the privileged part of ordinary users' jobs.
 * Its settings come from /etc/crmpi/crmpi.conf (key = value lines), each
 * overridable by an option.
 */
@Command(name = "daemon", description = "Run crmpid, the node daemon for ordinary users' jobs (as root;"
    + " see docs/install.md).")
final class DaemonCommand implements Callable<Integer> {
  static final Path DEFAULT_CONFIG = Path.of("/etc/crmpi/crmpi.conf");

  @Option(names = "--config", paramLabel = "FILE", description = "Settings file (default: ${DEFAULT-VALUE}).",
      defaultValue = "/etc/crmpi/crmpi.conf")
  Path config;

  @Option(names = "--socket", paramLabel = "PATH", description = "Where to listen (default: socket in the"
      + " settings, else " + DaemonClient.DEFAULT_SOCKET + ").")
  Path socket;

  @Option(names = "--state-dir", paramLabel = "DIR", description = "Root's directory for trees and staged images"
      + " (default: state_dir in the settings, else /var/lib/crmpi).")
  Path stateDir;

  @Option(names = "--key", paramLabel = "FILE", description = "The cluster's image key, root 0600 (default:"
      + " key_file in the settings, else /etc/crmpi/key).")
  Path key;

  @Override
  public Integer call() throws Exception {
    if (!Posix.isRoot()) {
      throw new JobException("crmpid runs as root (it is the one privileged part of crmpi); ordinary users run"
          + " 'crmpi run', which talks to it", ExitCodes.USAGE);
    }
    Properties settings = load(config);
    Path sock = socket != null ? socket : Path.of(settings.getProperty("socket", DaemonClient.DEFAULT_SOCKET));
    Path state = stateDir != null ? stateDir : Path.of(settings.getProperty("state_dir", "/var/lib/crmpi"));
    Path keyFile = key != null ? key : Path.of(settings.getProperty("key_file", "/etc/crmpi/key"));
    String bridge = settings.getProperty("job_bridge");
    NodeKey nodeKey = NodeKey.load(keyFile);
    CriuEngine engine = new CriuEngine(Criu.load(criu(settings)), Installation.crmpiNs());
    String slurmOnly = settings.getProperty("slurm_only", "false").strip();
    if (!slurmOnly.equals("true") && !slurmOnly.equals("false")) {
      throw new JobException(config + ": slurm_only must be true or false, not '" + slurmOnly + "'", ExitCodes.USAGE);
    }
    JobNetworkPlan jobNetwork = null;
    if (bridge != null && !bridge.isBlank()) {
      try {
        jobNetwork = JobNetworkPlan.of(bridge, settings.getProperty("job_subnet", JobNetworkPlan.DEFAULT_SUBNET),
            config + ": job_subnet");
      } catch (IllegalArgumentException e) {
        throw new JobException(e.getMessage(), ExitCodes.USAGE);
      }
    }
    Path metricsDir = null;
    String metrics = settings.getProperty("metrics_dir", "").strip();
    if (!metrics.isEmpty()) {
      metricsDir = Path.of(metrics);
      if (!metricsDir.isAbsolute() || !Files.isDirectory(metricsDir)) {
        throw new JobException(config + ": metrics_dir " + metrics + " is not an existing directory (node_exporter's"
            + " --collector.textfile.directory; docs/monitoring.md)", ExitCodes.USAGE);
      }
    }
    java.net.InetSocketAddress metricsListen = null;
    String listen = settings.getProperty("metrics_listen", "").strip();
    if (!listen.isEmpty()) {
      try {
        metricsListen = ListenAddress.parse(listen, config + ": metrics_listen");
      } catch (IllegalArgumentException e) {
        throw new JobException(e.getMessage(), ExitCodes.USAGE);
      }
    }
    Crmpid daemon = Crmpid.bind(new Crmpid.Config(sock, state, jobNetwork, Boolean.parseBoolean(slurmOnly),
        metricsDir, metricsListen), engine, nodeKey);
    Runtime.getRuntime().addShutdownHook(new Thread(daemon::close, "crmpid-shutdown"));
    daemon.serve();
    return ExitCodes.OK;
  }

  /** The installation's CRIU, or the binary the settings name (root's, writable by root alone). */
  private CriuInstallation criu(Properties settings) throws IOException {
    CriuInstallation bundled = CriuInstallation.locate();
    String binary = settings.getProperty("criu", "").strip();
    if (binary.isEmpty()) {
      return bundled;
    }
    Path path = Path.of(binary);
    if (!path.isAbsolute() || !Files.isRegularFile(path) || !Files.isExecutable(path)) {
      throw new JobException(config + ": criu " + binary + " is not an executable file (an absolute path to a"
          + " criu >= 4.2)", ExitCodes.USAGE);
    }
    int mode = (Integer) Files.getAttribute(path, "unix:mode");
    if ((Integer) Files.getAttribute(path, "unix:uid") != 0 || (mode & 022) != 0) {
      throw new JobException(config + ": criu " + binary + " must belong to root and be writable by root alone:"
          + " crmpid runs it as root", ExitCodes.USAGE);
    }
    return new CriuInstallation(path, bundled.library());
  }

  private static Properties load(Path file) throws IOException {
    Properties p = new Properties();
    if (!Files.exists(file)) {
      return p;
    }
    if (!Files.getOwner(file).getName().equals("root")) {
      throw new JobException("crmpid's settings " + file + " belong to " + Files.getOwner(file).getName()
          + ", not root: chown root " + file, ExitCodes.USAGE);
    }
    try (Reader r = Files.newBufferedReader(file)) {
      p.load(r);
    }
    for (String k : p.stringPropertyNames()) {
      if (!java.util.Set.of("socket", "state_dir", "key_file", "job_bridge", "job_subnet", "slurm_only",
          "metrics_dir", "metrics_listen", "criu").contains(k)) {
        throw new JobException(file + ": unknown setting '" + k + "' (known: socket, state_dir, key_file,"
            + " job_bridge, job_subnet, slurm_only, metrics_dir, metrics_listen, criu)", ExitCodes.USAGE);
      }
    }
    return p;
  }
}
