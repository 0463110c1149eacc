// Adam's update in place, four lanes at a time (TensorFlow.js's formula):
// m = β1·m + (1 − β1)·g; v = β2·v + (1 − β2)·g²; w −= step·m / (√(v·c2) + ε),
// step = lr / (1 − β1^t), c2 = 1 / (1 − β2^t). Byte addresses of n floats each.
export function adam(w: usize, g: usize, m: usize, v: usize, n: i32, beta1: f32, beta2: f32, step: f32, c2: f32, eps: f32): void {
  const b1 = f32x4.splat(beta1);
  const b2 = f32x4.splat(beta2);
  const a1 = f32x4.splat(<f32>1 - beta1);
  const a2 = f32x4.splat(<f32>1 - beta2);
  const sv = f32x4.splat(step);
  const cv = f32x4.splat(c2);
  const ev = f32x4.splat(eps);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const gi = v128.load(g + o);
    const mi = f32x4.add(f32x4.mul(b1, v128.load(m + o)), f32x4.mul(a1, gi));
    const vi = f32x4.add(f32x4.mul(b2, v128.load(v + o)), f32x4.mul(f32x4.mul(a2, gi), gi));
    v128.store(m + o, mi);
    v128.store(v + o, vi);
    v128.store(w + o, f32x4.sub(v128.load(w + o), f32x4.div(f32x4.mul(sv, mi), f32x4.add(f32x4.sqrt(f32x4.mul(vi, cv)), ev))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const gi = load<f32>(g + o);
    const mi = beta1 * load<f32>(m + o) + (<f32>1 - beta1) * gi;
    const vi = beta2 * load<f32>(v + o) + (<f32>1 - beta2) * gi * gi;
    store<f32>(m + o, mi);
    store<f32>(v + o, vi);
    store<f32>(w + o, load<f32>(w + o) - (step * mi) / (sqrt<f32>(vi * c2) + eps));
  }
}
