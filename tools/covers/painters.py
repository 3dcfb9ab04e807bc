"""Cover illustrations for the theme cards, painted with Pillow from a palette and a scene.

A recipe (tools/covers/recipes.toml) gives a ``palette`` (hex colours: background, second
background or light, accent, figure) and a ``scene``, a list of painter names applied back to
front: backgrounds, scenery, the figure (``bust``, ``couple``, ``baby``, ``dog``, ``cat``, ``pet``)
and what it wears, then finishes (grain, vignette, frame...).

Painting is deterministic for a given order: the random generator is seeded with the cover's
name, while Pillow's noise (``Image.effect_noise``) draws from one generator per process, so the
covers are always painted in the same order (tools/covers/render.py).
"""

import io
import itertools
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageOps

WIDTH, HEIGHT = 480, 600
SCALE = 2  # painted at twice the size, then reduced, for smooth edges
W, H = WIDTH * SCALE, HEIGHT * SCALE

RGB = tuple[int, int, int]


def hex_colour(value: str) -> RGB:
    value = value.lstrip("#")
    return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16))


def mix(a: RGB, b: RGB, t: float) -> RGB:
    return (round(a[0] + (b[0] - a[0]) * t), round(a[1] + (b[1] - a[1]) * t), round(a[2] + (b[2] - a[2]) * t))


def lighter(colour: RGB, t: float) -> RGB:
    return mix(colour, (255, 255, 255), t)


def darker(colour: RGB, t: float) -> RGB:
    return mix(colour, (0, 0, 0), t)


@dataclass
class Canvas:
    palette: list[RGB]
    rng: random.Random
    figure_colour: RGB | None = None
    image: Image.Image = field(default_factory=lambda: Image.new("RGB", (W, H)))
    figure_mask: Image.Image = field(default_factory=lambda: Image.new("L", (W, H), 0))
    # The head of the last figure painted, for hats and collars: centre x, centre y, radii.
    head: tuple[float, float, float, float] = (W / 2, H * 0.43, W * 0.15, W * 0.18)

    def colour(self, index: int) -> RGB:
        return self.palette[index % len(self.palette)]

    def layer(self) -> tuple[Image.Image, ImageDraw.ImageDraw]:
        layer = Image.new("RGBA", (W, H), (0, 0, 0, 0))
        return layer, ImageDraw.Draw(layer)

    def paste(self, layer: Image.Image, blur: float = 0) -> None:
        if blur:
            layer = layer.filter(ImageFilter.GaussianBlur(blur))
        self.image.paste(layer, (0, 0), layer)


Painter = Callable[[Canvas], None]
PAINTERS: dict[str, Painter] = {}


def painter(name: str) -> Callable[[Painter], Painter]:
    def register(function: Painter) -> Painter:
        PAINTERS[name] = function
        return function

    return register


def _vertical_gradient(stops: list[tuple[float, RGB]]) -> Image.Image:
    column = Image.new("RGB", (1, H))
    pixels = column.load()
    for y in range(H):
        t = y / (H - 1)
        for (t0, c0), (t1, c1) in itertools.pairwise(stops):
            if t0 <= t <= t1:
                pixels[0, y] = mix(c0, c1, (t - t0) / ((t1 - t0) or 1))
                break
        else:
            pixels[0, y] = stops[-1][1]
    return column.resize((W, H))


# --- Backgrounds ------------------------------------------------------------------------------


@painter("gradient")
def _gradient(c: Canvas) -> None:
    c.image.paste(_vertical_gradient([(0, c.colour(0)), (1, mix(c.colour(0), c.colour(1), 0.85))]))


@painter("radial")
def _radial(c: Canvas) -> None:
    c.image.paste(c.colour(0), (0, 0, W, H))
    glow = Image.new("L", (W, H), 0)
    ImageDraw.Draw(glow).ellipse((W * 0.05, H * 0.05, W * 0.95, H * 0.8), fill=255)
    glow = glow.filter(ImageFilter.GaussianBlur(W * 0.18))
    c.image.paste(Image.new("RGB", (W, H), c.colour(1)), (0, 0), glow)


@painter("sunset")
def _sunset(c: Canvas) -> None:
    c.image.paste(
        _vertical_gradient([(0, c.colour(0)), (0.45, c.colour(1)), (0.72, c.colour(2)), (1, c.colour(1))])
    )


@painter("split")
def _split(c: Canvas) -> None:
    c.image.paste(c.colour(0), (0, 0, W, H))
    draw = ImageDraw.Draw(c.image)
    draw.polygon([(W * 0.55, 0), (W, 0), (W, H), (W * 0.25, H)], fill=c.colour(1))
    draw.polygon([(W * 0.47, 0), (W * 0.55, 0), (W * 0.25, H), (W * 0.17, H)], fill=c.colour(2))


@painter("paper")
def _paper(c: Canvas) -> None:
    c.image.paste(c.colour(0), (0, 0, W, H))
    noise = Image.effect_noise((W // 4, H // 4), 18).resize((W, H)).filter(ImageFilter.GaussianBlur(2))
    c.image.paste(
        ImageChops.multiply(
            c.image,
            Image.merge("RGB", [ImageOps.autocontrast(noise, cutoff=2)] * 3).point(
                lambda v: 225 + v * 30 // 255
            ),
        )
    )


# --- Scenery ----------------------------------------------------------------------------------


@painter("window")
def _window(c: Canvas) -> None:
    layer, draw = c.layer()
    light = lighter(c.colour(2), 0.3)
    for x0 in (W * 0.06, W * 0.27):
        draw.rounded_rectangle((x0, H * 0.08, x0 + W * 0.18, H * 0.5), radius=8, fill=(*light, 170))
    draw.rectangle((W * 0.06, H * 0.285, W * 0.45, H * 0.3), fill=(*c.colour(0), 120))
    c.paste(layer, blur=10)


@painter("plants")
def _plants(c: Canvas) -> None:
    layer, draw = c.layer()
    green = c.colour(2)
    for _ in range(16):
        x, y = c.rng.uniform(W * 0.02, W * 0.3), c.rng.uniform(H * 0.55, H * 0.92)
        angle = c.rng.uniform(-0.9, 0.9)
        length = c.rng.uniform(W * 0.08, W * 0.16)
        tip = (x + math.sin(angle) * length, y - math.cos(angle) * length)
        side = (math.cos(angle) * length * 0.22, math.sin(angle) * length * 0.22)
        mid = ((x + tip[0]) / 2, (y + tip[1]) / 2)
        shade = darker(green, c.rng.uniform(0, 0.35))
        draw.polygon(
            [(x, y), (mid[0] + side[0], mid[1] + side[1]), tip, (mid[0] - side[0], mid[1] - side[1])],
            fill=(*shade, 235),
        )
    draw.rounded_rectangle(
        (W * 0.06, H * 0.86, W * 0.26, H), radius=10, fill=(*darker(c.colour(3), 0.1), 255)
    )
    c.paste(layer, blur=2)


@painter("sun")
def _sun(c: Canvas) -> None:
    layer, draw = c.layer()
    x, y, r = W * 0.7, H * 0.5, W * 0.16
    draw.ellipse((x - r * 1.9, y - r * 1.9, x + r * 1.9, y + r * 1.9), fill=(*lighter(c.colour(2), 0.4), 90))
    c.paste(layer, blur=40)
    layer, draw = c.layer()
    draw.ellipse((x - r, y - r, x + r, y + r), fill=(*lighter(c.colour(2), 0.55), 255))
    c.paste(layer, blur=3)


@painter("moon")
def _moon(c: Canvas) -> None:
    layer, draw = c.layer()
    x, y, r = W * 0.72, H * 0.2, W * 0.11
    draw.ellipse((x - r * 2.2, y - r * 2.2, x + r * 2.2, y + r * 2.2), fill=(240, 230, 255, 60))
    c.paste(layer, blur=35)
    layer, draw = c.layer()
    draw.ellipse((x - r, y - r, x + r, y + r), fill=(246, 240, 222, 255))
    for dx, dy, cr in ((-0.3, -0.2, 0.18), (0.25, 0.3, 0.12), (0.35, -0.35, 0.08)):
        draw.ellipse(
            (x + dx * r - cr * r, y + dy * r - cr * r, x + dx * r + cr * r, y + dy * r + cr * r),
            fill=(222, 214, 196, 255),
        )
    c.paste(layer, blur=1.5)


@painter("bokeh")
def _bokeh(c: Canvas) -> None:
    layer, draw = c.layer()
    for _ in range(26):
        r = c.rng.uniform(W * 0.025, W * 0.075)
        x, y = c.rng.uniform(0, W), c.rng.uniform(0, H * 0.75)
        colour = lighter(c.colour(c.rng.choice((1, 2))), 0.35)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=(*colour, c.rng.randint(50, 130)))
    c.paste(layer, blur=5)


@painter("stars")
def _stars(c: Canvas) -> None:
    layer, draw = c.layer()
    for _ in range(260):
        x, y, r = c.rng.uniform(0, W), c.rng.uniform(0, H), c.rng.choice((1.2, 1.6, 2.2, 3.2))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=(255, 255, 255, c.rng.randint(90, 255)))
    c.paste(layer, blur=0.6)


@painter("planet")
def _planet(c: Canvas) -> None:
    layer, draw = c.layer()
    x, y, r = W * 0.18, H * 0.86, W * 0.42
    draw.ellipse((x - r * 1.15, y - r * 1.15, x + r * 1.15, y + r * 1.15), fill=(*c.colour(2), 70))
    c.paste(layer, blur=30)
    planet = Image.new("RGB", (W, H))
    planet.paste(_vertical_gradient([(0, lighter(c.colour(2), 0.3)), (0.8, c.colour(1)), (1, c.colour(0))]))
    mask = Image.new("L", (W, H), 0)
    ImageDraw.Draw(mask).ellipse((x - r, y - r, x + r, y + r), fill=255)
    c.image.paste(planet, (0, 0), mask.filter(ImageFilter.GaussianBlur(1.5)))
    layer, draw = c.layer()
    for band in range(5):
        by = y - r * 0.7 + band * r * 0.3
        draw.ellipse((x - r * 1.05, by - 8, x + r * 1.05, by + 8), fill=(255, 255, 255, 28))
    c.paste(layer, blur=6)


@painter("rays")
def _rays(c: Canvas) -> None:
    layer, draw = c.layer()
    origin = (W * 0.1, -H * 0.1)
    for index in range(7):
        angle = 0.35 + index * 0.14 + c.rng.uniform(-0.03, 0.03)
        spread = 0.035
        far = H * 1.6
        points = [
            origin,
            (origin[0] + math.cos(angle - spread) * far, origin[1] + math.sin(angle - spread) * far),
            (origin[0] + math.cos(angle + spread) * far, origin[1] + math.sin(angle + spread) * far),
        ]
        draw.polygon(points, fill=(*lighter(c.colour(2), 0.5), 55))
    c.paste(layer, blur=18)


@painter("forest")
def _forest(c: Canvas) -> None:
    for depth, (shade, base, height) in enumerate(((0.25, 0.78, 0.5), (0.55, 0.95, 0.65))):
        layer, draw = c.layer()
        colour = darker(c.colour(3 if depth else 1), shade)
        x = -W * 0.05
        while x < W * 1.05:
            width = c.rng.uniform(W * 0.1, W * 0.18)
            top = H * (base - height * c.rng.uniform(0.6, 1))
            draw.polygon([(x, H * base), (x + width / 2, top), (x + width, H * base)], fill=(*colour, 255))
            draw.rectangle((x + width * 0.45, H * base - 4, x + width * 0.55, H), fill=(*colour, 255))
            x += width * c.rng.uniform(0.55, 0.9)
        draw.rectangle((0, H * base, W, H), fill=(*colour, 255))
        c.paste(layer, blur=6 - depth * 4)


@painter("castle")
def _castle(c: Canvas) -> None:
    layer, draw = c.layer()
    colour = (*darker(c.colour(0), 0.35), 255)
    ground = H * 0.72
    for x0, width, top in (
        (0.02, 0.14, 0.38),
        (0.16, 0.26, 0.5),
        (0.42, 0.16, 0.3),
        (0.58, 0.26, 0.48),
        (0.84, 0.14, 0.36),
    ):
        x0, width, top = x0 * W, width * W, top * H
        draw.rectangle((x0, top, x0 + width, ground), fill=colour)
        step = width / 5
        for k in range(0, 5, 2):
            draw.rectangle((x0 + k * step, top - step * 0.8, x0 + (k + 1) * step, top), fill=colour)
    draw.polygon([(W * 0.47, H * 0.3), (W * 0.5, H * 0.2), (W * 0.53, H * 0.3)], fill=colour)
    draw.line((W * 0.5, H * 0.2, W * 0.5, H * 0.13), fill=colour, width=5)
    draw.polygon([(W * 0.5, H * 0.13), (W * 0.57, H * 0.15), (W * 0.5, H * 0.17)], fill=(*c.colour(2), 255))
    draw.rectangle((0, ground, W, H), fill=colour)
    c.paste(layer, blur=1.5)


@painter("mountains")
def _mountains(c: Canvas) -> None:
    for depth, (shade, base) in enumerate(((0.15, 0.62), (0.45, 0.72))):
        layer, draw = c.layer()
        points = [(0, H)]
        x = 0.0
        while x <= W:
            points.append((x, H * (base - c.rng.uniform(0.08, 0.3))))
            x += c.rng.uniform(W * 0.12, W * 0.25)
        points += [(W, H * base), (W, H)]
        draw.polygon(points, fill=(*darker(c.colour(1), shade), 255))
        if depth == 0:
            for px, py in points[1:-2]:
                draw.polygon(
                    [(px - 30, py + 45), (px, py), (px + 30, py + 45)], fill=(*lighter(c.colour(2), 0.4), 255)
                )
        c.paste(layer, blur=3 - depth * 2)


@painter("sea")
def _sea(c: Canvas) -> None:
    layer, draw = c.layer()
    top = H * 0.66
    sea = _vertical_gradient([(0, lighter(c.colour(1), 0.1)), (1, darker(c.colour(0), 0.2))]).convert("RGBA")
    mask = Image.new("L", (W, H), 0)
    ImageDraw.Draw(mask).rectangle((0, top, W, H), fill=255)
    c.image.paste(sea, (0, 0), mask)
    for _ in range(40):
        x, y = c.rng.uniform(0, W), c.rng.uniform(top + 10, H)
        length = c.rng.uniform(W * 0.04, W * 0.12)
        draw.line((x, y, x + length, y), fill=(255, 255, 255, c.rng.randint(40, 110)), width=3)
    c.paste(layer, blur=1)


@painter("sand")
def _sand(c: Canvas) -> None:
    layer, draw = c.layer()
    draw.polygon([(0, H * 0.84), (W * 0.5, H * 0.8), (W, H * 0.86), (W, H), (0, H)], fill=(*c.colour(2), 255))
    c.paste(layer, blur=2)


@painter("palms")
def _palms(c: Canvas) -> None:
    layer, draw = c.layer()
    colour = (*darker(c.colour(3), 0.3), 255)
    for base_x, lean, height in ((W * 0.08, 0.25, 0.55), (W * 0.93, -0.2, 0.48)):
        top = (base_x + lean * W * 0.4, H * (1 - height) * 0.9)
        steps = 20
        for k in range(steps):
            t0, t1 = k / steps, (k + 1) / steps
            x0 = base_x + (top[0] - base_x) * t0**1.5
            x1 = base_x + (top[0] - base_x) * t1**1.5
            y0, y1 = H + (top[1] - H) * t0, H + (top[1] - H) * t1
            draw.line((x0, y0, x1, y1), fill=colour, width=int(26 - 14 * t0))
        for angle in range(-175, 10, 25):
            rad = math.radians(angle)
            length = W * 0.26
            tip = (
                top[0] + math.cos(rad) * length,
                top[1] + abs(math.sin(rad)) * -length * 0.25 + length * 0.45,
            )
            mid = ((top[0] + tip[0]) / 2, (top[1] + tip[1]) / 2 - length * 0.12)
            normal = (-(tip[1] - top[1]) / length * W * 0.035, (tip[0] - top[0]) / length * W * 0.035)
            draw.polygon(
                [
                    top,
                    (mid[0] + normal[0], mid[1] + normal[1]),
                    tip,
                    (mid[0] - normal[0] * 0.3, mid[1] - normal[1] * 0.3),
                ],
                fill=colour,
            )
    c.paste(layer, blur=1.5)


@painter("city")
def _city(c: Canvas) -> None:
    layer, draw = c.layer()
    colour = darker(c.colour(0), 0.25)
    x = 0.0
    while x < W:
        width = c.rng.uniform(W * 0.07, W * 0.14)
        top = H * c.rng.uniform(0.3, 0.58)
        draw.rectangle((x, top, x + width - 4, H), fill=(*colour, 255))
        for wy in range(int(top) + 16, H, 28):
            for wx in range(int(x) + 10, int(x + width) - 14, 18):
                if c.rng.random() < 0.35:
                    draw.rectangle((wx, wy, wx + 7, wy + 11), fill=(*lighter(c.colour(2), 0.3), 200))
        x += width
    c.paste(layer, blur=1.5)


@painter("neon")
def _neon(c: Canvas) -> None:
    for blur, width in ((22, 30), (4, 8)):
        layer, draw = c.layer()
        for index, x in enumerate((W * 0.12, W * 0.86, W * 0.78)):
            colour = c.colour(2 if index % 2 == 0 else 3)
            top = H * (0.12 + 0.1 * index)
            draw.rounded_rectangle(
                (x, top, x + width, top + H * 0.28), radius=width // 2, fill=(*colour, 230)
            )
        draw.line((W * 0.05, H * 0.1, W * 0.3, H * 0.1), fill=(*c.colour(3), 230), width=width // 2)
        c.paste(layer, blur=blur)


@painter("rain")
def _rain(c: Canvas) -> None:
    layer, draw = c.layer()
    for _ in range(220):
        x, y = c.rng.uniform(-W * 0.1, W), c.rng.uniform(-H * 0.1, H)
        length = c.rng.uniform(H * 0.03, H * 0.08)
        draw.line(
            (x, y, x + length * 0.15, y + length), fill=(220, 230, 255, c.rng.randint(40, 110)), width=2
        )
    c.paste(layer, blur=0.8)


@painter("grid")
def _grid(c: Canvas) -> None:
    horizon = H * 0.62
    x, r = W / 2, W * 0.3
    top = horizon - r * 1.55
    sun = _vertical_gradient(
        [(0, c.colour(2)), (top / H, c.colour(2)), (horizon / H, c.colour(1)), (1, c.colour(1))]
    )
    mask = Image.new("L", (W, H), 0)
    draw = ImageDraw.Draw(mask)
    draw.ellipse((x - r, top, x + r, top + 2 * r), fill=255)
    for k in range(7):
        gap_y = top + r * (1.0 + k * 0.13)
        draw.rectangle((0, gap_y, W, gap_y + 3 + k * 2.5), fill=0)
    mask.paste(0, (0, int(horizon), W, H))
    c.image.paste(sun, (0, 0), mask.filter(ImageFilter.GaussianBlur(1)))
    layer, draw = c.layer()
    draw.rectangle((0, horizon, W, H), fill=(*darker(c.colour(0), 0.3), 255))
    line = (*c.colour(3), 220)
    for k in range(-14, 15):
        draw.line((W / 2 + k * W * 0.03, horizon, W / 2 + k * W * 0.25, H), fill=line, width=3)
    depth = 0.0
    while depth < 1:
        draw.line(
            (0, horizon + (H - horizon) * depth, W, horizon + (H - horizon) * depth), fill=line, width=3
        )
        depth = depth * 1.35 + 0.03
    c.paste(layer)
    glow, _ = c.layer()
    ImageDraw.Draw(glow).rectangle((0, horizon - 6, W, horizon + 6), fill=(*c.colour(1), 200))
    c.paste(glow, blur=14)


@painter("meadow")
def _meadow(c: Canvas) -> None:
    layer, draw = c.layer()
    base = darker(c.colour(3), 0.05)
    draw.rectangle((0, H * 0.86, W, H), fill=(*base, 255))
    for _ in range(420):
        x = c.rng.uniform(0, W)
        height = c.rng.uniform(H * 0.06, H * 0.2)
        bend = c.rng.uniform(-W * 0.03, W * 0.03)
        shade = mix(base, c.colour(2), c.rng.uniform(0, 0.25))
        draw.line(
            (x, H, x + bend, H * 0.9 - height + H * 0.1), fill=(*shade, 255), width=c.rng.choice((3, 4, 5))
        )
    c.paste(layer, blur=1)


@painter("deco")
def _deco(c: Canvas) -> None:
    layer, draw = c.layer()
    gold = (*c.colour(1), 150)
    for cx in (W * 0.18, W * 0.82, W * 0.5):
        cy = H * (0.2 if cx != W * 0.5 else 0.05)
        for radius in range(60, 360, 55):
            draw.arc((cx - radius, cy - radius, cx + radius, cy + radius), 0, 180, fill=gold, width=4)
        for angle in range(0, 181, 15):
            rad = math.radians(angle)
            draw.line(
                (cx, cy, cx + math.cos(rad) * 360, cy + math.sin(rad) * 360), fill=(*c.colour(1), 70), width=2
            )
    c.paste(layer, blur=1)


@painter("tree")
def _tree(c: Canvas) -> None:
    layer, draw = c.layer()
    x, top, bottom, width = W * 0.8, H * 0.18, H * 0.82, W * 0.42
    green = darker(c.colour(1), 0.2)
    for tier in range(4):
        t_top = top + (bottom - top) * tier * 0.2
        t_bottom = t_top + (bottom - top) * 0.4
        half = width * (0.35 + tier * 0.2) / 2
        draw.polygon([(x, t_top), (x + half, t_bottom), (x - half, t_bottom)], fill=(*green, 255))
    c.paste(layer, blur=2)
    layer, draw = c.layer()
    for _ in range(60):
        ty = c.rng.uniform(top + 60, bottom)
        spread = (ty - top) / (bottom - top) * width * 0.45
        tx = x + c.rng.uniform(-spread, spread)
        draw.ellipse((tx - 7, ty - 7, tx + 7, ty + 7), fill=(*c.colour(2), 255))
    c.paste(layer, blur=3)
    c.paste(layer, blur=12)


@painter("pumpkins")
def _pumpkins(c: Canvas) -> None:
    layer, draw = c.layer()
    draw.rectangle((0, H * 0.88, W, H), fill=(*darker(c.colour(0), 0.4), 255))
    for x, size in ((W * 0.14, 0.13), (W * 0.88, 0.16), (W * 0.7, 0.09)):
        r = W * size
        y = H * 0.9 - r * 0.55
        orange = c.colour(2)
        for k, offset in enumerate((-0.5, 0.5, 0)):
            draw.ellipse(
                (x + offset * r - r * 0.65, y - r * 0.6, x + offset * r + r * 0.65, y + r * 0.6),
                fill=(*darker(orange, 0.15 if k < 2 else 0), 255),
            )
        draw.rectangle((x - 6, y - r * 0.8, x + 6, y - r * 0.5), fill=(60, 80, 30, 255))
        glow = (255, 220, 120, 255)
        draw.polygon(
            [(x - r * 0.35, y - r * 0.1), (x - r * 0.2, y - r * 0.3), (x - r * 0.08, y - r * 0.1)], fill=glow
        )
        draw.polygon(
            [(x + r * 0.08, y - r * 0.1), (x + r * 0.2, y - r * 0.3), (x + r * 0.35, y - r * 0.1)], fill=glow
        )
        draw.chord((x - r * 0.4, y - r * 0.15, x + r * 0.4, y + r * 0.35), 0, 180, fill=glow)
    c.paste(layer, blur=1.5)


@painter("clouds")
def _clouds(c: Canvas) -> None:
    layer, draw = c.layer()
    for cx, cy, scale in ((W * 0.15, H * 0.2, 1), (W * 0.85, H * 0.12, 0.8), (W * 0.75, H * 0.62, 1.1)):
        for _ in range(7):
            r = W * 0.07 * scale * c.rng.uniform(0.7, 1.3)
            x, y = cx + c.rng.uniform(-W * 0.1, W * 0.1) * scale, cy + c.rng.uniform(-r * 0.4, r * 0.4)
            draw.ellipse((x - r, y - r, x + r, y + r), fill=(255, 255, 255, 235))
    c.paste(layer, blur=4)


@painter("petals")
def _petals(c: Canvas) -> None:
    layer, draw = c.layer()
    for _ in range(45):
        x, y = c.rng.uniform(0, W), c.rng.uniform(0, H)
        r = c.rng.uniform(8, 18)
        draw.ellipse((x - r, y - r * 0.6, x + r, y + r * 0.6), fill=(*c.colour(2), c.rng.randint(170, 240)))
    c.paste(layer.rotate(25, resample=Image.Resampling.BICUBIC), blur=1)


@painter("flowers")
def _flowers(c: Canvas) -> None:
    layer, draw = c.layer()
    for _ in range(22):
        x = c.rng.uniform(0, W)
        y = c.rng.uniform(H * 0.78, H * 1.02)
        r = c.rng.uniform(W * 0.035, W * 0.06)
        colour = mix(c.colour(2), (255, 255, 255), c.rng.uniform(0, 0.5))
        for k in range(6):
            angle = k * math.pi / 3
            px, py = x + math.cos(angle) * r * 0.8, y + math.sin(angle) * r * 0.8
            draw.ellipse((px - r * 0.6, py - r * 0.6, px + r * 0.6, py + r * 0.6), fill=(*colour, 255))
        draw.ellipse((x - r * 0.35, y - r * 0.35, x + r * 0.35, y + r * 0.35), fill=(250, 215, 120, 255))
    c.paste(layer, blur=1.5)


@painter("mushroom")
def _mushroom(c: Canvas) -> None:
    layer, draw = c.layer()
    x, y, r = W * 0.2, H * 0.45, W * 0.3
    draw.rounded_rectangle((x - r * 0.22, y, x + r * 0.22, H), radius=30, fill=(246, 236, 214, 255))
    draw.chord((x - r, y - r * 0.8, x + r, y + r * 0.6), 180, 360, fill=(*c.colour(2), 255))
    for dx, dy, dr in ((-0.5, -0.35, 0.12), (0.1, -0.55, 0.1), (0.55, -0.25, 0.09), (-0.1, -0.2, 0.07)):
        draw.ellipse(
            (x + dx * r - dr * r, y + dy * r - dr * r, x + dx * r + dr * r, y + dy * r + dr * r),
            fill=(255, 250, 240, 255),
        )
    draw.rectangle((0, H * 0.9, W, H), fill=(*c.colour(3), 255))
    c.paste(layer, blur=1.5)


@painter("shelves")
def _shelves(c: Canvas) -> None:
    layer, draw = c.layer()
    wood = darker(c.colour(0), 0.3)
    for row in range(5):
        y = H * 0.05 + row * H * 0.19
        draw.rectangle((0, y + H * 0.16, W, y + H * 0.18), fill=(*wood, 255))
        x = 0.0
        while x < W:
            width = c.rng.uniform(18, 38)
            height = H * c.rng.uniform(0.11, 0.155)
            colour = mix(c.colour(1), c.colour(c.rng.choice((0, 2))), c.rng.uniform(0, 0.6))
            draw.rectangle(
                (x, y + H * 0.16 - height, x + width - 3, y + H * 0.16), fill=(*darker(colour, 0.25), 255)
            )
            x += width
    c.paste(layer, blur=5)


@painter("ship")
def _ship(c: Canvas) -> None:
    layer, draw = c.layer()
    colour = (*darker(c.colour(0), 0.3), 255)
    x, y = W * 0.78, H * 0.66
    draw.polygon([(x - 110, y - 20), (x + 110, y - 20), (x + 80, y + 12), (x - 85, y + 12)], fill=colour)
    for mast, height in ((-55, 190), (10, 240), (70, 170)):
        draw.line((x + mast, y - 20, x + mast, y - 20 - height), fill=colour, width=5)
        for k in range(3):
            sy = y - 40 - k * height / 3.3
            draw.polygon(
                [
                    (x + mast - 38 + k * 6, sy - height / 4),
                    (x + mast + 38 - k * 6, sy - height / 4),
                    (x + mast + 34, sy),
                    (x + mast - 34, sy),
                ],
                fill=(*lighter(c.colour(2), 0.2), 230),
            )
    c.paste(layer, blur=2)


@painter("tower")
def _tower(c: Canvas) -> None:
    layer, draw = c.layer()
    colour = (*darker(c.colour(3), 0.2), 230)
    x, base, top = W * 0.78, H * 0.86, H * 0.12
    draw.polygon(
        [
            (x - 120, base),
            (x - 14, top + 120),
            (x, top),
            (x + 14, top + 120),
            (x + 120, base),
            (x + 70, base),
            (x, base - 150),
            (x - 70, base),
        ],
        fill=colour,
    )
    draw.rectangle((x - 60, H * 0.56, x + 60, H * 0.575), fill=colour)
    draw.rectangle((x - 36, H * 0.36, x + 36, H * 0.372), fill=colour)
    c.paste(layer, blur=4)


@painter("lightleak")
def _lightleak(c: Canvas) -> None:
    layer, draw = c.layer()
    draw.ellipse((-W * 0.3, -H * 0.1, W * 0.35, H * 0.5), fill=(255, 120, 40, 120))
    draw.ellipse((W * 0.7, H * 0.55, W * 1.3, H * 1.1), fill=(255, 70, 60, 90))
    c.paste(layer, blur=70)


@painter("halftone")
def _halftone(c: Canvas) -> None:
    layer, draw = c.layer()
    step = 28
    for y in range(0, H + step, step):
        for x in range(0, W + step, step):
            r = 3 + 9 * (1 - y / H)
            offset = step / 2 if (y // step) % 2 else 0
            draw.ellipse(
                (x + offset - r, y - r, x + offset + r, y + r), fill=(*darker(c.colour(1), 0.12), 200)
            )
    c.paste(layer)


@painter("watercolor")
def _watercolor(c: Canvas) -> None:
    for _ in range(9):
        layer, draw = c.layer()
        x, y = c.rng.uniform(0, W), c.rng.uniform(0, H)
        r = c.rng.uniform(W * 0.15, W * 0.35)
        points = [
            (x + math.cos(a) * r * c.rng.uniform(0.6, 1.2), y + math.sin(a) * r * c.rng.uniform(0.6, 1.2))
            for a in (k * math.pi / 8 for k in range(16))
        ]
        draw.polygon(points, fill=(*c.colour(c.rng.choice((1, 2))), c.rng.randint(50, 100)))
        c.paste(layer, blur=c.rng.uniform(12, 30))


# --- Figures ----------------------------------------------------------------------------------


def _figure(c: Canvas, mask: Image.Image, colour: RGB | None = None) -> None:
    colour = colour or c.figure_colour or c.colour(3)
    rim = mask.filter(ImageFilter.MaxFilter(9)).filter(ImageFilter.GaussianBlur(10))
    c.image.paste(Image.new("RGB", (W, H), lighter(c.colour(1), 0.35)), (0, 0), rim.point(lambda v: v * 0.55))
    shade = _vertical_gradient([(0, lighter(colour, 0.12)), (1, darker(colour, 0.15))])
    c.image.paste(shade, (0, 0), mask.filter(ImageFilter.GaussianBlur(1)))
    c.figure_mask = ImageChops.lighter(c.figure_mask, mask)


def _bust_mask(cx: float, head_y: float, scale: float = 1.0) -> tuple[Image.Image, tuple]:
    mask = Image.new("L", (W, H), 0)
    draw = ImageDraw.Draw(mask)
    rx, ry = W * 0.14 * scale, W * 0.175 * scale
    shoulder_top = head_y + ry * 1.45
    draw.rounded_rectangle(
        (cx - W * 0.36 * scale, shoulder_top, cx + W * 0.36 * scale, H + 200),
        radius=int(W * 0.17 * scale),
        fill=255,
    )
    draw.rectangle((cx - rx * 0.48, head_y, cx + rx * 0.48, shoulder_top + 20), fill=255)
    draw.ellipse((cx - rx, head_y - ry, cx + rx, head_y + ry), fill=255)
    return mask, (cx, head_y, rx, ry)


@painter("bust")
def _bust(c: Canvas) -> None:
    mask, c.head = _bust_mask(W / 2, H * 0.43)
    _figure(c, mask)


@painter("couple")
def _couple(c: Canvas) -> None:
    mask, _ = _bust_mask(W * 0.34, H * 0.42, 0.82)
    _figure(c, mask, darker(c.figure_colour or c.colour(3), 0.1))
    mask, c.head = _bust_mask(W * 0.64, H * 0.47, 0.8)
    _figure(c, mask)


@painter("baby")
def _baby(c: Canvas) -> None:
    mask = Image.new("L", (W, H), 0)
    draw = ImageDraw.Draw(mask)
    cx, cy, r = W / 2, H * 0.5, W * 0.15
    draw.ellipse((cx - W * 0.3, cy + r * 0.6, cx + W * 0.3, cy + r * 3.2), fill=255)
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=255)
    c.head = (cx, cy, r, r)
    _figure(c, mask)


def _cat_mask() -> tuple[Image.Image, tuple]:
    """A cat sitting and facing the viewer: pointed ears, pear-shaped body, tail curling up."""
    mask = Image.new("L", (W, H), 0)
    draw = ImageDraw.Draw(mask)
    cx, cy = W / 2, H * 0.4
    rx, ry = W * 0.14, W * 0.125
    draw.ellipse((cx - W * 0.25, cy + ry * 1.6, cx + W * 0.25, H * 1.08), fill=255)
    draw.polygon(
        [
            (cx - rx * 0.7, cy + ry * 0.5),
            (cx + rx * 0.7, cy + ry * 0.5),
            (cx + W * 0.17, cy + ry * 2.8),
            (cx - W * 0.17, cy + ry * 2.8),
        ],
        fill=255,
    )
    draw.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=255)
    for side in (-1, 1):
        draw.polygon(
            [
                (cx + side * rx * 0.2, cy - ry * 0.7),
                (cx + side * rx * 0.95, cy - ry * 1.85),
                (cx + side * rx * 1.0, cy - ry * 0.05),
            ],
            fill=255,
        )
    draw.arc((cx + W * 0.1, H * 0.55, cx + W * 0.46, H * 0.98), 210, 350, fill=255, width=int(W * 0.045))
    return mask, (cx, cy, rx, ry)


def _dog_mask() -> tuple[Image.Image, tuple]:
    """A dog sitting in profile, looking left: snout, floppy ear, chest, front legs, tail."""
    mask = Image.new("L", (W, H), 0)
    draw = ImageDraw.Draw(mask)
    hx, hy, r = W * 0.42, H * 0.3, W * 0.125
    draw.ellipse((W * 0.42, H * 0.55, W * 0.84, H * 0.97), fill=255)  # haunch
    draw.polygon(
        [
            (hx - r * 0.3, hy + r * 0.6),
            (hx + r * 0.8, hy - r * 0.3),
            (W * 0.72, H * 0.6),
            (W * 0.6, H * 0.8),
            (W * 0.34, H * 0.66),
        ],
        fill=255,
    )  # neck and back
    draw.ellipse((W * 0.3, H * 0.48, W * 0.56, H * 0.74), fill=255)  # chest
    for x0 in (W * 0.33, W * 0.43):
        draw.rounded_rectangle((x0, H * 0.62, x0 + W * 0.085, H * 0.965), radius=int(W * 0.04), fill=255)
        draw.ellipse((x0 - W * 0.035, H * 0.925, x0 + W * 0.09, H * 0.975), fill=255)
    draw.ellipse((hx - r, hy - r, hx + r, hy + r), fill=255)
    draw.rounded_rectangle(
        (hx - r * 1.75, hy - r * 0.15, hx - r * 0.2, hy + r * 0.75), radius=int(r * 0.38), fill=255
    )
    draw.ellipse((hx - r * 1.85, hy - r * 0.22, hx - r * 1.4, hy + r * 0.22), fill=255)  # nose
    draw.line(
        [(W * 0.8, H * 0.86), (W * 0.9, H * 0.78), (W * 0.93, H * 0.64)],
        fill=255,
        width=int(W * 0.04),
        joint="curve",
    )
    ear = Image.new("L", (W, H), 0)
    ImageDraw.Draw(ear).ellipse((hx + r * 0.15, hy - r * 0.7, hx + r * 0.95, hy + r * 1.35), fill=255)
    mask = ImageChops.lighter(
        mask, ear.rotate(-18, center=(hx + r * 0.5, hy - r * 0.6), resample=Image.Resampling.BICUBIC)
    )
    return mask, (hx - r * 0.3, hy, r, r)


@painter("dog")
def _dog(c: Canvas) -> None:
    mask, c.head = _dog_mask()
    _figure(c, mask)


@painter("cat")
def _cat(c: Canvas) -> None:
    mask, c.head = _cat_mask()
    _figure(c, mask)


PAINTERS["pet"] = _dog


# --- What the figure wears ----------------------------------------------------------------------


@painter("collar")
def _collar(c: Canvas) -> None:
    cx, cy, rx, ry = c.head
    layer, draw = c.layer()
    neck = cy + ry * 1.4
    shirt = (*lighter(c.colour(1), 0.6), 255)
    draw.polygon([(cx - rx * 0.75, neck), (cx + rx * 0.75, neck), (cx, neck + ry * 1.5)], fill=shirt)
    tie = (*darker(c.colour(2 if len(c.palette) > 2 else 0), 0.1), 255)
    draw.polygon(
        [
            (cx - rx * 0.14, neck + ry * 0.15),
            (cx + rx * 0.14, neck + ry * 0.15),
            (cx + rx * 0.22, neck + ry * 1.35),
            (cx, neck + ry * 1.6),
            (cx - rx * 0.22, neck + ry * 1.35),
        ],
        fill=(*c.colour(0), 255) if tie[:3] == shirt[:3] else tie,
    )
    lapel = (*lighter(c.colour(3), 0.12), 255)
    for side in (-1, 1):
        draw.polygon(
            [
                (cx + side * rx * 0.75, neck),
                (cx + side * rx * 0.05, neck + ry * 1.7),
                (cx + side * rx * 1.6, neck + ry * 0.8),
            ],
            fill=lapel,
        )
    c.paste(layer, blur=1)


@painter("helmet")
def _helmet(c: Canvas) -> None:
    cx, cy, _, ry = c.head
    layer, draw = c.layer()
    r = ry * 1.5
    draw.ellipse(
        (cx - r, cy - r, cx + r, cy + r),
        fill=(*lighter(c.colour(2), 0.4), 70),
        outline=(235, 240, 250, 255),
        width=14,
    )
    draw.arc(
        (cx - r * 0.8, cy - r * 0.8, cx + r * 0.8, cy + r * 0.8),
        200,
        250,
        fill=(255, 255, 255, 230),
        width=12,
    )
    draw.rounded_rectangle(
        (cx - r * 1.05, cy + r * 0.82, cx + r * 1.05, cy + r * 1.12), radius=20, fill=(225, 230, 240, 255)
    )
    c.paste(layer, blur=1)


@painter("crown")
def _crown(c: Canvas) -> None:
    cx, cy, rx, ry = c.head
    layer, draw = c.layer()
    gold = (*c.colour(2), 255)
    base, top = cy - ry * 0.75, cy - ry * 1.55
    points = [(cx - rx * 0.85, base)]
    for k in range(5):
        x = cx - rx * 0.85 + k * rx * 0.425
        points += [(x, top if k % 2 == 0 else top + ry * 0.35)]
    points += [(cx + rx * 0.85, top), (cx + rx * 0.85, base)]
    draw.polygon(points, fill=gold)
    for k in range(0, 5, 2):
        x = cx - rx * 0.85 + k * rx * 0.425
        draw.ellipse((x - 12, top - 12, x + 12, top + 12), fill=(*lighter(c.colour(2), 0.5), 255))
    draw.rectangle((cx - rx * 0.85, base - 18, cx + rx * 0.85, base), fill=(*darker(c.colour(2), 0.2), 255))
    c.paste(layer, blur=1)


@painter("hood")
def _hood(c: Canvas) -> None:
    cx, cy, rx, ry = c.head
    layer, draw = c.layer()
    colour = (*darker(c.colour(1), 0.35), 255)
    draw.polygon(
        [
            (cx, cy - ry * 1.7),
            (cx + rx * 1.55, cy + ry * 0.4),
            (cx + rx * 2.3, cy + ry * 2.4),
            (cx - rx * 2.3, cy + ry * 2.4),
            (cx - rx * 1.55, cy + ry * 0.4),
        ],
        fill=colour,
    )
    draw.ellipse(
        (cx - rx * 0.85, cy - ry * 0.95, cx + rx * 0.85, cy + ry * 1.1), fill=(*darker(c.colour(3), 0.3), 255)
    )
    c.paste(layer, blur=2)


def _brim_hat(c: Canvas, *, brim: float, crown_h: float, colour: RGB, band: RGB) -> None:
    cx, cy, rx, ry = c.head
    layer, draw = c.layer()
    brim_y = cy - ry * 0.55
    draw.rounded_rectangle(
        (cx - rx * 0.85, brim_y - ry * crown_h, cx + rx * 0.85, brim_y + 6), radius=30, fill=(*colour, 255)
    )
    draw.rectangle((cx - rx * 0.86, brim_y - ry * 0.28, cx + rx * 0.86, brim_y - 4), fill=(*band, 255))
    draw.ellipse((cx - rx * brim, brim_y - ry * 0.16, cx + rx * brim, brim_y + ry * 0.2), fill=(*colour, 255))
    c.paste(layer, blur=1)


@painter("fedora")
def _fedora(c: Canvas) -> None:
    _brim_hat(c, brim=1.75, crown_h=0.95, colour=darker(c.colour(3), 0.2), band=c.colour(1))


@painter("hat")
def _hat(c: Canvas) -> None:
    _brim_hat(
        c, brim=2.0, crown_h=0.8, colour=mix(c.colour(2), (120, 95, 60), 0.5), band=darker(c.colour(3), 0.2)
    )


def _pointed_hat(c: Canvas, colour: RGB, stars: bool) -> None:
    cx, cy, rx, ry = c.head
    layer, draw = c.layer()
    brim_y = cy - ry * 0.6
    draw.polygon(
        [(cx - rx * 0.95, brim_y), (cx + rx * 0.3, brim_y - ry * 2.6), (cx + rx * 0.95, brim_y)],
        fill=(*colour, 255),
    )
    draw.ellipse((cx - rx * 1.7, brim_y - ry * 0.2, cx + rx * 1.7, brim_y + ry * 0.22), fill=(*colour, 255))
    if stars:
        for _ in range(7):
            t = c.rng.uniform(0.1, 0.8)
            x = cx + c.rng.uniform(-rx * 0.6, rx * 0.6) * (1 - t) + rx * 0.3 * t
            y = brim_y - ry * 2.6 * t
            draw.ellipse((x - 8, y - 8, x + 8, y + 8), fill=(*c.colour(2), 255))
    else:
        draw.rectangle(
            (cx - rx * 0.9, brim_y - ry * 0.3, cx + rx * 0.9, brim_y - 4), fill=(*c.colour(2), 255)
        )
    c.paste(layer, blur=1)


@painter("wizard_hat")
def _wizard_hat(c: Canvas) -> None:
    _pointed_hat(c, c.colour(1), stars=True)


@painter("witch_hat")
def _witch_hat(c: Canvas) -> None:
    _pointed_hat(c, darker(c.colour(0), 0.3), stars=False)


@painter("captain_hat")
def _captain_hat(c: Canvas) -> None:
    cx, cy, rx, ry = c.head
    layer, draw = c.layer()
    base = cy - ry * 0.6
    draw.ellipse(
        (cx - rx * 1.2, base - ry * 0.85, cx + rx * 1.2, base - ry * 0.15), fill=(245, 245, 240, 255)
    )
    draw.rectangle(
        (cx - rx * 0.95, base - ry * 0.5, cx + rx * 0.95, base), fill=(*darker(c.colour(0), 0.4), 255)
    )
    draw.chord(
        (cx - rx * 0.95, base - ry * 0.2, cx + rx * 0.95, base + ry * 0.35), 0, 180, fill=(20, 20, 25, 255)
    )
    draw.ellipse((cx - 14, base - ry * 0.4, cx + 14, base - ry * 0.4 + 28), fill=(*c.colour(2), 255))
    c.paste(layer, blur=1)


@painter("horns")
def _horns(c: Canvas) -> None:
    cx, cy, rx, ry = c.head
    layer, draw = c.layer()
    draw.chord(
        (cx - rx * 1.05, cy - ry * 1.15, cx + rx * 1.05, cy + ry * 0.2), 180, 360, fill=(150, 155, 160, 255)
    )
    draw.rectangle((cx - 8, cy - ry * 1.1, cx + 8, cy - ry * 0.1), fill=(120, 125, 130, 255))
    for side in (-1, 1):
        points = []
        for k in range(12):
            t = k / 11
            points.append(
                (cx + side * (rx * 0.95 + t * rx * 0.75), cy - ry * 0.5 - math.sin(t * 2.2) * ry * 0.95)
            )
        draw.line(points, fill=(236, 226, 200, 255), width=30, joint="curve")
    c.paste(layer, blur=1)


@painter("armour")
def _armour(c: Canvas) -> None:
    cx, cy, _, ry = c.head
    layer, draw = c.layer()
    steel, shine = (150, 160, 175, 255), (225, 232, 240, 255)
    top = cy + ry * 1.5
    for side in (-1, 1):
        x = cx + side * W * 0.26
        draw.ellipse((x - W * 0.13, top - 20, x + W * 0.13, top + W * 0.17), fill=steel)
        draw.arc((x - W * 0.1, top, x + W * 0.1, top + W * 0.12), 200, 320, fill=shine, width=8)
    draw.rounded_rectangle((cx - W * 0.18, top + 30, cx + W * 0.18, H), radius=40, fill=steel)
    draw.line((cx, top + 50, cx, H), fill=shine, width=6)
    c.paste(layer, blur=1)


@painter("cape")
def _cape(c: Canvas) -> None:
    cx, cy, rx, ry = c.head
    layer, draw = c.layer()
    colour = (*c.colour(1), 255)
    top = cy + ry * 1.45
    draw.polygon(
        [
            (cx - W * 0.32, top + 30),
            (cx + W * 0.2, top),
            (cx + W * 0.45, top + H * 0.04),
            (W * 1.02, top + H * 0.12),
            (W * 0.93, top + H * 0.22),
            (W * 1.02, top + H * 0.3),
            (W * 0.95, H),
            (cx - W * 0.45, H),
        ],
        fill=colour,
    )
    fold = (*darker(c.colour(1), 0.25), 255)
    draw.line([(cx + W * 0.38, top + H * 0.06), (W * 0.86, top + H * 0.2), (W * 0.9, H)], fill=fold, width=14)
    c.image.paste(layer, (0, 0), ImageChops.subtract(layer.getchannel("A"), c.figure_mask))
    layer, draw = c.layer()
    draw.rounded_rectangle(
        (cx - rx * 0.72, cy - ry * 0.22, cx + rx * 0.72, cy + ry * 0.08),
        radius=14,
        fill=(*darker(c.colour(1), 0.35), 255),
    )
    c.paste(layer, blur=1)


@painter("scarf")
def _scarf(c: Canvas) -> None:
    cx, cy, rx, ry = c.head
    layer, draw = c.layer()
    knit, stripe = (190, 48, 60, 255), (245, 235, 220, 255)
    neck = cy + ry * 1.05
    draw.rounded_rectangle((cx - rx * 1.1, neck, cx + rx * 1.1, neck + ry * 0.6), radius=34, fill=knit)
    draw.rounded_rectangle(
        (cx - rx * 0.85, neck + ry * 0.35, cx - rx * 0.3, neck + ry * 1.45), radius=18, fill=knit
    )
    for k in range(2):
        y = neck + ry * (0.8 + k * 0.3)
        draw.line((cx - rx * 0.85, y, cx - rx * 0.3, y), fill=stripe, width=10)
    for k in range(5):
        x = cx - rx * 0.8 + k * rx * 0.12
        draw.line((x, neck + ry * 1.45, x, neck + ry * 1.62), fill=knit, width=7)
    c.paste(layer, blur=1)


@painter("outline")
def _outline(c: Canvas) -> None:
    edge = ImageChops.subtract(c.figure_mask.filter(ImageFilter.MaxFilter(13)), c.figure_mask)
    c.image.paste((17, 17, 17), (0, 0), edge)


# --- In front of everything ---------------------------------------------------------------------


@painter("leaves")
def _leaves(c: Canvas) -> None:
    layer, draw = c.layer()
    for _ in range(38):
        x, y = c.rng.uniform(0, W), c.rng.uniform(0, H)
        size = c.rng.uniform(14, 30)
        angle = c.rng.uniform(0, math.tau)
        colour = mix(c.colour(1), c.colour(2), c.rng.random())
        dx, dy = math.cos(angle) * size, math.sin(angle) * size
        draw.polygon(
            [
                (x - dx, y - dy),
                (x - dy * 0.45, y + dx * 0.45),
                (x + dx, y + dy),
                (x + dy * 0.45, y - dx * 0.45),
            ],
            fill=(*colour, 235),
        )
    c.paste(layer, blur=0.8)


@painter("snow")
def _snow(c: Canvas) -> None:
    layer, draw = c.layer()
    for _ in range(170):
        x, y, r = c.rng.uniform(0, W), c.rng.uniform(0, H), c.rng.uniform(2.5, 9)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=(255, 255, 255, c.rng.randint(150, 240)))
    c.paste(layer, blur=1.2)


@painter("sparkles")
def _sparkles(c: Canvas) -> None:
    layer, draw = c.layer()
    for _ in range(55):
        x, y, r = c.rng.uniform(0, W), c.rng.uniform(0, H * 0.85), c.rng.uniform(3, 8)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=(*lighter(c.colour(2), 0.4), 255))
    c.paste(layer, blur=6)
    c.paste(layer, blur=1)


@painter("blinds")
def _blinds(c: Canvas) -> None:
    layer, draw = c.layer()
    for k in range(-8, 20):
        y = k * H * 0.075
        draw.polygon(
            [(0, y), (W, y - H * 0.25), (W, y - H * 0.25 + H * 0.035), (0, y + H * 0.035)],
            fill=(0, 0, 0, 120),
        )
    c.paste(layer, blur=4)


# --- Finishes -----------------------------------------------------------------------------------


@painter("vignette")
def _vignette(c: Canvas) -> None:
    mask = Image.new("L", (W, H), 255)
    ImageDraw.Draw(mask).ellipse((-W * 0.15, -H * 0.1, W * 1.15, H * 1.1), fill=0)
    c.image.paste((0, 0, 0), (0, 0), mask.filter(ImageFilter.GaussianBlur(W * 0.12)).point(lambda v: v * 0.7))


@painter("grain")
def _grain(c: Canvas) -> None:
    noise = Image.effect_noise((W, H), 40).point(lambda v: 128 + (v - 128) // 3)
    c.image = ImageChops.overlay(c.image, Image.merge("RGB", [noise] * 3))


@painter("scanlines")
def _scanlines(c: Canvas) -> None:
    layer, draw = c.layer()
    for y in range(0, H, 8):
        draw.line((0, y, W, y), fill=(0, 0, 0, 45), width=3)
    c.paste(layer)


@painter("glow")
def _glow(c: Canvas) -> None:
    bright = c.image.point(lambda v: max(0, v - 150) * 2).filter(ImageFilter.GaussianBlur(30))
    c.image = ImageChops.screen(c.image, bright)


@painter("bw")
def _bw(c: Canvas) -> None:
    c.image = ImageOps.autocontrast(ImageOps.grayscale(c.image), cutoff=1).convert("RGB")


@painter("sepia")
def _sepia(c: Canvas) -> None:
    c.image = ImageOps.colorize(
        ImageOps.grayscale(c.image), black=(30, 20, 10), white=(250, 232, 196), mid=(150, 115, 70)
    )


@painter("brush")
def _brush(c: Canvas) -> None:
    source = c.image.copy()
    layer, draw = c.layer()
    for _ in range(5000):
        x, y = c.rng.uniform(0, W - 1), c.rng.uniform(0, H - 1)
        colour = source.getpixel((int(x), int(y)))
        angle = c.rng.uniform(0.5, 1.1)
        length = c.rng.uniform(10, 26)
        draw.line(
            (x, y, x + math.cos(angle) * length, y + math.sin(angle) * length),
            fill=(*colour, 150),
            width=c.rng.choice((4, 6, 8)),
        )
    c.paste(layer, blur=0.6)


@painter("watercolor_wash")
def _watercolor_wash(c: Canvas) -> None:
    soft = c.image.filter(ImageFilter.GaussianBlur(3))
    edges = c.figure_mask.filter(ImageFilter.FIND_EDGES).filter(ImageFilter.GaussianBlur(4))
    c.image = Image.blend(c.image, soft, 0.6)
    c.image.paste(darker(c.colour(3), 0.2), (0, 0), edges.point(lambda v: min(255, v * 3)))
    paper = Image.effect_noise((W // 3, H // 3), 30).resize((W, H)).point(lambda v: 215 + v * 40 // 255)
    c.image = ImageChops.multiply(c.image, Image.merge("RGB", [paper] * 3))


@painter("frame")
def _frame(c: Canvas) -> None:
    gold, dark = (201, 162, 77), (112, 80, 30)
    draw = ImageDraw.Draw(c.image)
    width = int(W * 0.07)
    for k in range(width):
        t = k / width
        colour = mix(dark, lighter(gold, 0.35), math.sin(t * math.pi))
        draw.rectangle((k, k, W - 1 - k, H - 1 - k), outline=colour, width=1)
    draw.rectangle((width, width, W - 1 - width, H - 1 - width), outline=darker(gold, 0.5), width=6)


@painter("polaroid")
def _polaroid(c: Canvas) -> None:
    border, bottom = int(W * 0.06), int(H * 0.13)
    photo = c.image.resize((W - 2 * border, H - border - bottom))
    c.image = Image.new("RGB", (W, H), (250, 248, 242))
    c.image.paste(photo, (border, border))


def paint(slug: str, spec: dict) -> Image.Image:
    """The cover called `slug`, WIDTH by HEIGHT, from its recipe."""
    palette = [
        hex_colour(value) for value in spec.get("palette", ["#5b5bd6", "#d6409f", "#f4f1ff", "#23235b"])
    ]
    figure = hex_colour(spec["figure"]) if "figure" in spec else None
    canvas = Canvas(palette=palette, rng=random.Random(slug), figure_colour=figure)
    for name in spec.get("scene", ["gradient", "bust"]):
        if name not in PAINTERS:
            raise ValueError(f"{slug}: unknown cover painter {name!r}; known: {', '.join(sorted(PAINTERS))}")
        PAINTERS[name](canvas)
    return canvas.image.resize((WIDTH, HEIGHT), Image.Resampling.LANCZOS)


PEOPLE_FIGURES = {"bust", "couple", "baby"}


def pet_version(spec: dict) -> dict:
    """The same cover with a dog where the person stands."""
    return {**spec, "scene": ["dog" if name in PEOPLE_FIGURES else name for name in spec.get("scene", [])]}


def webp_bytes(image: Image.Image, *, quality: int = 78) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="WEBP", quality=quality, method=6)
    return buffer.getvalue()
