/** Writes `text` to stdout and resolves once stdout can take more (its drain), so a long stream of output holds at most a buffer in memory. */
export function writeStdout(text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (process.stdout.write(text, (err) => (err ? reject(err) : undefined))) resolve();
    else process.stdout.once('drain', resolve);
  });
}
