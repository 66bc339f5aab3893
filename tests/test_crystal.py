"""Crystal phases and kinematic templates: CIF reading with clear errors, the Cartesian frame,
structure factors, excitation errors, precession, the orientation convention (against the shared
diffsims fixtures) and diffsims itself at random orientations."""

import json
import math

import numpy as np
import pandas as pd
import pytest
from conftest import REPO

from acomflow.crystal.excitation import (
    excitation_errors,
    shape_factors,
)
from acomflow.crystal.orientations import (
    beam_directions,
    random_orientations,
    zone_axis_orientation,
)
from acomflow.crystal.phase import dataset_phases, read_cif
from acomflow.crystal.reflections import reflections, scattering_factor
from acomflow.crystal.templates import DiffractionSettings, template

PHASES = REPO / "config/phases"
CONVENTIONS = REPO.parent / "shared/data/acom/conventions"
SHARED_CIF = REPO.parent / "shared/data/cif"
CELL = (
    "data_x\n"
    + "".join(f"_cell_length_{x} 4\n" for x in "abc")
    + "".join(f"_cell_angle_{x} 90\n" for x in ("alpha", "beta", "gamma"))
)


def rotation(quaternion):
    from orix.quaternion import Rotation

    return Rotation(np.asarray(quaternion, dtype=np.float64)).to_matrix()[0]


def test_the_demo_phases():
    al, pbi2 = read_cif(PHASES / "Al.cif"), read_cif(PHASES / "PbI2.cif")
    assert (al.space_group_number, al.point_group, al.laue_group, len(al.elements)) == (
        225,
        "m-3m",
        "m-3m",
        4,
    )
    assert (pbi2.space_group_number, pbi2.point_group, len(pbi2.elements)) == (164, "-3m", 3)
    np.testing.assert_allclose(al.direct_basis(), 4.0495 * np.eye(3), atol=1e-12)
    np.testing.assert_allclose(
        pbi2.direct_basis()[1], [-2.279, 4.558 * math.sqrt(3) / 2, 0], atol=1e-12
    )


@pytest.mark.parametrize(
    "text,message",
    [
        ("not a cif at all", "cannot be read as a CIF file"),
        (
            CELL + "_space_group_name_H-M_alt 'P m -3 m'\n",
            "the CIF holds no atom sites",
        ),
        (
            CELL
            + "_space_group_name_H-M_alt 'Q q q'\nloop_\n_atom_site_label\n_atom_site_type_symbol\n"
            "_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\nA Al 0 0 0\n",
            "no known space group",
        ),
    ],
)
def test_bad_cif_files_are_named_with_the_problem(tmp_path, text, message):
    path = tmp_path / "bad.cif"
    path.write_text(text)
    with pytest.raises(ValueError, match=f"bad.cif: {message}"):
        read_cif(path)
    with pytest.raises(FileNotFoundError, match="missing.cif: no such CIF file"):
        read_cif(tmp_path / "missing.cif")


def test_the_cartesian_frame_is_orix():
    from orix.crystal_map import Phase

    for path in [*sorted(SHARED_CIF.glob("*.cif")), *sorted(PHASES.glob("*.cif"))]:
        np.testing.assert_allclose(
            read_cif(path).direct_basis(),
            Phase.from_cif(str(path)).structure.lattice.base,
            atol=1e-9,
            err_msg=path.name,
        )


def test_systematic_absences_and_friedel_pairs():
    si = reflections(
        read_cif(SHARED_CIF / "Si.cif") if SHARED_CIF.is_dir() else read_cif(PHASES / "Al.cif"), 1.2
    )
    indices = {tuple(h) for h in si.hkl}
    if SHARED_CIF.is_dir():  # diamond: h k l all odd, or all even with h + k + l = 4n
        assert (
            (1, 1, 1) in indices
            and (2, 2, 0) in indices
            and (2, 0, 0) not in indices
            and (2, 2, 2) not in indices
        )
    al = reflections(read_cif(PHASES / "Al.cif"), 1.5)
    assert all(len({h % 2 for h in hkl}) == 1 for hkl in al.hkl)  # fcc: unmixed
    pairs = {tuple(h): i for h, i in zip(al.hkl, al.intensity)}
    assert all(np.isclose(pairs[tuple(-np.array(h))], i) for h, i in pairs.items())
    np.testing.assert_allclose(al.g_length, np.sqrt((al.hkl**2).sum(1)) / 4.0495)


def test_scattering_factors_against_the_other_international_tables_fit():
    """IT C 4.3.2.2 (ours, via gemmi) against 4.3.2.3 (diffsims' "xtables"): two fits of the
    same scattering factors."""
    from diffsims.utils.atomic_scattering_params import ATOMIC_SCATTERING_PARAMS

    s = np.linspace(0, 1.0, 21)
    for element in ("Al", "Pb", "I", "O", "Si"):
        a, b = np.array(ATOMIC_SCATTERING_PARAMS[element]).T
        theirs = (a * np.exp(-b * s[:, None] ** 2)).sum(1)
        np.testing.assert_allclose(
            scattering_factor(element, s), theirs, rtol=0.03, err_msg=element
        )


def test_precession_closed_form_against_its_integral():
    """The Lorentzian averaged over the precession circle in closed form (linearised excitation
    error) against the exact-geometry integral: within 5e-4 (of a peak of 1) up to 1.5 1/Å at
    200 kV and 1 deg."""
    settings = DiffractionSettings()
    lam, phi, width = settings.wavelength, math.radians(1.0), 0.03
    rng = np.random.default_rng(0)
    rho, s = rng.uniform(0, 1.5, 500), rng.uniform(-0.06, 0.06, 500)
    z = 1 / lam - np.sqrt(1 / lam**2 - rho**2) - s
    g = np.c_[rho, np.zeros_like(rho), z]
    np.testing.assert_allclose(excitation_errors(g, lam), s, atol=1e-12)
    exact = shape_factors(g, lam, phi, width, azimuths=2880)
    np.testing.assert_allclose(shape_factors(g, lam, phi, width, azimuths=720), exact, atol=1e-6)
    closed = shape_factors(g, lam, phi, width, closed_form=True)
    np.testing.assert_allclose(closed, exact, atol=5e-4)


@pytest.mark.skipif(
    not CONVENTIONS.is_dir(), reason=f"convention fixtures not found at {CONVENTIONS}"
)
@pytest.mark.parametrize("name", ["Al", "PbI2_2H"])
def test_templates_land_on_the_convention_fixtures(name):
    """At each listed orientation every fixture spot is a template spot, at its pixel to 1e-5 px
    (col = 128 + kx / 0.0098, row = 128 - ky / 0.0098)."""
    phase = read_cif(SHARED_CIF / f"{name}.cif")
    bank = reflections(phase, 1.2)
    orientations = pd.read_csv(CONVENTIONS / f"{name}_orientations.csv")
    spots = pd.read_csv(CONVENTIONS / f"{name}_spots.csv")
    for row in orientations.itertuples():
        t = template(bank, rotation([row.qw, row.qx, row.qy, row.qz]), DiffractionSettings())
        mine = {tuple(h): g for h, g in zip(t.hkl, t.g)}
        listed = spots[spots.pattern == row.pattern]
        assert len(listed) == row.n_spots and all(
            tuple(h) in mine for h in listed[["h", "k", "l"]].to_numpy()
        )
        g = np.array([mine[tuple(h)] for h in listed[["h", "k", "l"]].to_numpy()])
        np.testing.assert_allclose(128 + g[:, 0] / 0.0098, listed.col_px, atol=1e-5)
        np.testing.assert_allclose(128 - g[:, 1] / 0.0098, listed.row_px, atol=1e-5)


@pytest.mark.parametrize("precession", [0.0, 1.0])
def test_templates_agree_with_diffsims(precession):
    """Random orientations, the same model (unit scattering factors, Lorentzian relrods, the
    closed-form precession): every reflection diffsims lists is ours (its box of Miller indices
    misses some of a hexagonal cell's), positions to 1e-6 1/Å, relative intensities to 1e-4."""
    from diffsims.generators.simulation_generator import SimulationGenerator
    from orix.crystal_map import Phase
    from orix.quaternion import Rotation

    generator = SimulationGenerator(200, scattering_params=None, precession_angle=precession)
    settings = DiffractionSettings(precession_deg=precession, s_max=0.03)
    for path in (PHASES / "Al.cif", PHASES / "PbI2.cif"):
        phase, theirs_phase = read_cif(path), Phase.from_cif(str(path))
        bank = reflections(phase, 1.5, scattering=lambda element, s: np.ones_like(s))
        quaternions = np.random.default_rng(3).normal(size=(4, 4))
        for quaternion in quaternions / np.linalg.norm(quaternions, axis=1, keepdims=True):
            rot = Rotation(quaternion)
            sim = generator.calculate_diffraction2d(
                theirs_phase,
                rotation=rot,
                reciprocal_radius=1.5,
                max_excitation_error=0.03,
                with_direct_beam=False,
            )
            intensity = sim.coordinates.intensity
            present = intensity > 1e-6 * intensity.max()  # diffsims lists absences at ~1e-30
            theirs = {
                tuple(np.rint(h).astype(int)): (g, i)
                for h, g, i in zip(
                    sim.coordinates.hkl[present], sim.coordinates.data[present], intensity[present]
                )
            }
            t = template(bank, rot.to_matrix()[0], settings)
            mine = {tuple(h): (g, i, f) for h, g, i, f in zip(t.hkl, t.g, t.intensity, t.structure)}
            common = sorted(set(mine) & set(theirs))
            assert set(theirs) <= set(mine)
            np.testing.assert_allclose(
                [mine[k][0] for k in common], [theirs[k][0] for k in common], atol=1e-6
            )
            # near-absences (|F|^2 under 1e-3 of the strongest) hang on the CIF's 0.333333 for 1/3
            strong = [k for k in common if mine[k][2] > 1e-3 * t.structure.max()]
            ratio = np.array([mine[k][1] / theirs[k][1] for k in strong])
            np.testing.assert_allclose(ratio / ratio.mean(), 1.0, atol=1e-4)


def test_banks_hold_the_fundamental_sector_beam_directions():
    """1 deg: 1,081 directions for m-3m, 6,845 for -3m, each putting a distinct crystal
    direction of the fundamental sector along the beam."""
    from orix.quaternion import Rotation
    from orix.vector import Vector3d

    for name, count in (("Al", 1081), ("PbI2", 6845)):
        quaternions = beam_directions(read_cif(PHASES / f"{name}.cif"), 1.0)
        assert quaternions.shape == (count, 4)
        np.testing.assert_allclose(np.linalg.norm(quaternions, axis=1), 1.0, atol=1e-12)
        beams = (Rotation(quaternions) * Vector3d.zvector()).data
        assert len(np.unique(np.round(beams, 6), axis=0)) == count


def test_random_orientations_are_uniform():
    """The rotation angle of uniformly random rotations has density (1 - cos w) / pi on [0, pi]:
    mean pi / 2 + 2 / pi rad (126.48 deg), and a quarter of them turn by less than 94.5 deg."""
    q = random_orientations(40000, np.random.default_rng(0))
    assert np.allclose(np.linalg.norm(q, axis=1), 1.0) and (q[:, 0] >= 0).all()
    angle = 2.0 * np.arccos(np.clip(q[:, 0], -1.0, 1.0))
    assert np.rad2deg(angle.mean()) == pytest.approx(
        math.degrees(math.pi / 2 + 2 / math.pi), abs=0.5
    )
    # P(w < x) = (x - sin x) / pi
    x = 1.65
    assert np.mean(angle < x) == pytest.approx((x - math.sin(x)) / math.pi, abs=0.01)


@pytest.mark.parametrize("name,uvw", [("Al", (1, 1, 2)), ("PbI2", (1, 0, 0)), ("PbI2", (2, 1, 3))])
def test_zone_axis_orientations_put_the_axis_along_the_beam(name, uvw):
    """The template of a zone-axis orientation holds only reflections of that zone (h u + k v +
    l w = 0) near the origin, in the plane normal to the beam; the in-plane angle turns it."""
    phase = read_cif(PHASES / f"{name}.cif")
    flat = DiffractionSettings(precession_deg=0.0, s_max=0.01)
    lattice = reflections(phase, 0.8)
    first = template(lattice, rotation(zone_axis_orientation(phase, uvw, 0.0)), flat)
    turned = template(lattice, rotation(zone_axis_orientation(phase, uvw, 30.0)), flat)
    assert len(first.hkl) >= 4 and (first.hkl @ np.array(uvw) == 0).all()
    assert np.abs(first.g[:, 2]).max() < 0.02  # the Ewald sphere's sag at 0.8 1/Å
    angle = np.arctan2(first.g[:, 1], first.g[:, 0])
    other = {tuple(h): g for h, g in zip(turned.hkl, turned.g)}
    turn = [
        np.arctan2(other[tuple(h)][1], other[tuple(h)][0]) - a for h, a in zip(first.hkl, angle)
    ]
    np.testing.assert_allclose(np.rad2deg(np.angle(np.exp(1j * np.array(turn)))), 30.0, atol=1e-9)


def test_every_named_phase_is_read_before_any_job():
    """A synthetic dataset's phases are read too; a name nobody declared is named with its key."""
    config = {
        "phases": {"Al": {"cif": str(PHASES / "Al.cif")}},
        "datasets": {
            "sim": {
                "source": "synthetic",
                "acom": {"phases": []},
                "synthetic": {"phases": ["Al"]},
            },
        },
    }
    assert set(dataset_phases(config)) == {"Al"}
    config["datasets"]["sim"]["synthetic"]["phases"] = ["Cu"]
    with pytest.raises(ValueError, match=r"datasets/sim/synthetic/phases: 'Cu' is not among"):
        dataset_phases(config)


def test_a_bank_without_beam_energy_or_calibration_stops(tmp_path):
    from acomflow.crystal.bank import dataset_bank
    from acomflow.crystal.settings import TemplateSettings

    for calibration, missing in (
        ({"inv_angstrom_per_px": 0.01, "beam_energy_kev": None}, "beam_energy_kev"),
        ({"inv_angstrom_per_px": None, "beam_energy_kev": 200.0}, "inv_angstrom_per_px"),
    ):
        (tmp_path / "data.json").write_text(json.dumps({"calibration": calibration}))
        with pytest.raises(ValueError, match=f"{tmp_path}: .*set calibration.{missing}"):
            dataset_bank(
                tmp_path,
                PHASES / "Al.cif",
                "Al",
                TemplateSettings(),
                1.0,
                tmp_path / "d.parquet",
                tmp_path / "s.parquet",
            )
