/**
 * The SPEC RG elasticity metrics (Herbst et al., SPEC-RG-2016-01; TOMPECS 2018), as defined in
 * reference/prediction-and-evaluation.md §3.2, over demand d_t and supply s_t sampled on a
 * regular step Δt, with T = n·Δt:
 *
 * - θ_U = (100/T) Σ max(d_t − s_t, 0) / d_t · Δt   (under-provisioning accuracy, %)
 * - θ_O = (100/T) Σ max(s_t − d_t, 0) / d_t · Δt   (over-provisioning accuracy, %)
 * - τ_U = (100/T) Σ max(sgn(d_t − s_t), 0) · Δt     (under-provisioning timeshare, %)
 * - τ_O = (100/T) Σ max(sgn(s_t − d_t), 0) · Δt     (over-provisioning timeshare, %)
 * - υ   = (100/(T − Δt)) Σ_{t≥2} min(|sgn Δs_t − sgn Δd_t|, 1) · Δt   (instability, %; T − 1 in steps)
 * - j   = (E_S − E_D) / T, E = number of changes (jitter, reported per hour)
 *
 * One convention the definitions leave open: at d_t = 0 the relative terms divide by 1 instead
 * (one replica is the unit of excess; the under-provisioning term is 0 there anyway).
 */
export interface ElasticityMetrics {
  readonly thetaUPercent: number;
  readonly thetaOPercent: number;
  readonly tauUPercent: number;
  readonly tauOPercent: number;
  readonly instabilityPercent: number;
  readonly jitterPerHour: number;
  /** E_S: steps at which supply changed. */
  readonly supplyChanges: number;
  /** E_D: steps at which demand changed. */
  readonly demandChanges: number;
}

/** Computes {@link ElasticityMetrics}; `demand` and `supply` are equally long, sampled every `stepSeconds`. */
export function elasticityMetrics(demand: ArrayLike<number>, supply: ArrayLike<number>, stepSeconds: number): ElasticityMetrics {
  const n = Math.min(demand.length, supply.length);
  if (n === 0 || !(stepSeconds > 0)) {
    return { thetaUPercent: 0, thetaOPercent: 0, tauUPercent: 0, tauOPercent: 0, instabilityPercent: 0, jitterPerHour: 0, supplyChanges: 0, demandChanges: 0 };
  }
  let under = 0;
  let over = 0;
  let underSteps = 0;
  let overSteps = 0;
  let unstableSteps = 0;
  let supplyChanges = 0;
  let demandChanges = 0;
  for (let t = 0; t < n; t++) {
    const d = demand[t]!;
    const s = supply[t]!;
    const unit = Math.max(d, 1);
    if (d > s) {
      under += (d - s) / unit;
      underSteps++;
    } else if (s > d) {
      over += (s - d) / unit;
      overSteps++;
    }
    if (t > 0) {
      const ds = Math.sign(s - supply[t - 1]!);
      const dd = Math.sign(d - demand[t - 1]!);
      if (ds !== dd) unstableSteps++;
      if (ds !== 0) supplyChanges++;
      if (dd !== 0) demandChanges++;
    }
  }
  const hours = (n * stepSeconds) / 3600;
  return {
    thetaUPercent: (100 * under) / n,
    thetaOPercent: (100 * over) / n,
    tauUPercent: (100 * underSteps) / n,
    tauOPercent: (100 * overSteps) / n,
    instabilityPercent: n > 1 ? (100 * unstableSteps) / (n - 1) : 0,
    jitterPerHour: (supplyChanges - demandChanges) / hours,
    supplyChanges,
    demandChanges,
  };
}
