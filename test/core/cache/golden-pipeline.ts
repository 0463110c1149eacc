/** The fixed two-stage shell pipeline of the golden tests (cache keys, lock file) over `in.txt` = `one line\n`. */
export const GOLDEN_PIPELINE = `name: golden
params:
  factor: 3
stages:
  a:
    run: mkdir -p out && cat in.txt in.txt > out/a.txt
    deps: [in.txt]
    outs: [out/a.txt]
  b:
    run: cat \${stages.a.outputs.out/a.txt} > out/b.txt && echo \${params.factor} >> out/b.txt
    outs: [out/b.txt]
    env: { LANG: C }
`;
