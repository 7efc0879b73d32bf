package io.crmpi.daemon;

import java.io.IOException;
import java.util.Optional;

/**
 * Whether crmpid serves a caller for a tree at all, before anything is
 * looked up or touched: root always; an ordinary user for a Slurm job's
 * tree only from inside that job; with slurm_only, for Slurm jobs only.
 */
final class Admission {
  private final SlurmMembership slurm;
  private final boolean slurmOnly;

  Admission(SlurmMembership slurm, boolean slurmOnly) {
    this.slurm = slurm;
    this.slurmOnly = slurmOnly;
  }

  /**
   * A Slurm job's trees ("slurm-ID") are served only to processes inside
   * that job (so only to its owner, and only on its nodes); with slurmOnly,
   * nothing else is served to ordinary users.
   */
  void admit(Caller caller, TreeId tree) throws IOException {
    if (caller.isRoot()) {
      return;
    }
    java.util.OptionalLong slurmJob = SlurmMembership.slurmJobOf(tree);
    if (slurmJob.isPresent()) {
      Optional<Long> in = caller.pid() > 0 ? slurm.jobOf(caller.pid()) : Optional.empty();
      if (in.isEmpty() || in.get() != slurmJob.getAsLong()) {
        throw new IOException(tree.job() + " is a Slurm job: crmpid serves it only to processes inside that job,"
            + " and your process " + caller.pid() + in.map(j -> " runs in Slurm job " + j).orElse(" runs in no"
            + " Slurm job") + " (run crmpi in the job's batch script or its steps)");
      }
    } else if (slurmOnly) {
      throw new IOException("this node's crmpid serves only Slurm jobs (slurm_only in /etc/crmpi/crmpi.conf), and "
          + tree.job() + " is not one: run it inside a Slurm job");
    }
  }
}
