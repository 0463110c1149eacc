/** The ```yaml fenced blocks of a markdown text, with the line their body starts on. */
export function yamlBlocks(markdown: string): { line: number; text: string }[] {
  return [...markdown.matchAll(/^```ya?ml[^\n]*\n([\s\S]*?)^```/gm)].map((m) => ({ line: markdown.slice(0, m.index).split('\n').length + 1, text: m[1]! }));
}
