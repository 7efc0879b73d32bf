package io.crmpi.mpitests;

import java.nio.file.Path;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A test class's real Slurm test cluster with a crmpid of the test's own
 * for the ordinary user's jobs ({@link SlurmUserJobs}): up before the
 * class's first test, down after its last. Registered with
 * {@code @RegisterExtension static final SlurmUserCluster SLURM = ...}.
 */
final class SlurmUserCluster implements BeforeAllCallback, AfterAllCallback {
  final SlurmTestCluster cluster;
  private final int nodes;
  private SlurmUserJobs user;

  /** A cluster of nodes nodes in dir, its slurmctld on port (each class its own). */
  SlurmUserCluster(Path dir, int port, int nodes) {
    this.cluster = new SlurmTestCluster(dir, port);
    this.nodes = nodes;
  }

  /** The user's side of the cluster: job directories, submissions, their crmpid. */
  SlurmUserJobs user() {
    return user;
  }

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    cluster.up(nodes);
    user = SlurmUserJobs.start(cluster);
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    cluster.down();
    if (user != null) {
      user.close();
    }
  }
}
