/** The solvers the scaling and convergence suites compare (every runtime/asgd solver that trains a model by steps). */
export const SCALING_SOLVERS = ['asgd', 'simuparallel', 'sync', 'paramserver', 'hogwild'] as const;
