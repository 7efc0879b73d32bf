/**
 * The Slurm adapter of crmpi (scontrol/sbatch/squeue through Commons Exec),
 * its SPANK plugin and the scripts that start a real Slurm test cluster.
 * Empty until the Slurm integration lands; local mode does not use it.
 */
package io.crmpi.slurm;
