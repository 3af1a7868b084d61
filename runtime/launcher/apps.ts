/**
 * Applications that `pgas-run -n N NAME` starts by name. Each maps to its compiled entry module,
 * relative to the package root. An application registers itself here when it lands (one line), so
 * that users write `pgas-run -n 8 kmeans ...` instead of a path into dist/.
 */
export const APPS: Readonly<Record<string, string>> = Object.freeze({
  demo: 'dist/demo/ring.js',
  kmeans: 'dist/kmeans/cli.js',
  cnn: 'dist/cnn/cli.js',
});
