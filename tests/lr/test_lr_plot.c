/* Plots: PNG and SVG files are written, have the right signature/content, and bad
 * paths or formats are errors. */
#include "brisk/core.h"
#include "brisk/io.h"
#include "brisk/lr.h"
#include "brisk_test.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(void) {
    char dir[] = "/tmp/brisk_lr_plot_XXXXXX";
    if (!mkdtemp(dir)) return 1;
    brisk_lr_schedule *a, *b;
    ASSERT_OK(brisk_lr_create_spec("OneCycleLR(max_lr=0.1, total_steps=5000)", NULL, &a));
    ASSERT_OK(brisk_lr_create_spec("rex(total_steps=5000, sampling=500)", NULL, &b));
    static double ya[5000], yb[5000];
    ASSERT_OK(brisk_lr_values(a, 5000, NULL, ya, NULL));
    ASSERT_OK(brisk_lr_values(b, 5000, NULL, yb, NULL));
    brisk_lr_series s[2] = {{"OneCycleLR(max_lr=0.1)", ya, 5000, NULL}, {"rex <sampled>", yb, 5000, NULL}};
    char png[128], svg[128], bad[128];
    snprintf(png, sizeof png, "%s/lr.png", dir);
    snprintf(svg, sizeof svg, "%s/lr.svg", dir);
    snprintf(bad, sizeof bad, "%s/lr.jpg", dir);
    ASSERT_OK(brisk_lr_plot_write(png, s, 2, "learning rate", "step"));
    ASSERT_OK(brisk_lr_plot_write(svg, s, 2, "learning rate", "step"));
    ASSERT_STATUS(brisk_lr_plot_write(bad, s, 2, NULL, NULL), BRISK_EUNSUPPORTED);
    ASSERT_STATUS(brisk_lr_plot_write(png, s, 0, NULL, NULL), BRISK_EINVAL);
    ASSERT_STATUS(brisk_lr_plot_write("/nonexistent-dir/x.png", s, 2, NULL, NULL), BRISK_EIO);
    char *text;
    size_t len;
    ASSERT_OK(brisk_read_file(png, &text, &len));
    ASSERT_TRUE(len > 1000 && !memcmp(text, "\x89PNG\r\n\x1a\n", 8));
    brisk_free(text);
    ASSERT_OK(brisk_read_file(svg, &text, &len));
    ASSERT_STR_CONTAINS(text, "<svg");
    ASSERT_STR_CONTAINS(text, "text-anchor=\"end\">0</text>"); /* schedules: y axis from 0 */
    ASSERT_STR_CONTAINS(text, "<polyline fill=\"none\" stroke=\"#1f77b4\"");
    ASSERT_STR_CONTAINS(text, "rex &lt;sampled&gt;"); /* labels are escaped */
    ASSERT_STR_CONTAINS(text, "</svg>");
    /* long series are thinned to a few points per pixel column */
    size_t points = 0;
    for (const char *p = strstr(text, "points=\""); p && *p && *p != '/'; p++) points += *p == ',';
    ASSERT_TRUE(points < 4000);
    brisk_free(text);
    /* explicit x values: points are placed by x, not by index */
    const double xv[4] = {1.0, 1.3, 2.0, 3.0}, yv[4] = {90, 80, 60, 65};
    brisk_lr_series sx = {"fd", yv, 4, xv};
    ASSERT_OK(brisk_lr_plot_write(svg, &sx, 1, "FD vs NFE", "log10 NFE"));
    ASSERT_OK(brisk_lr_plot_write(png, &sx, 1, "FD vs NFE", "log10 NFE"));
    ASSERT_OK(brisk_read_file(svg, &text, &len));
    const char *pts = strstr(text, "stroke=\"#1f77b4\" stroke-width=\"2\" points=\"");
    ASSERT_TRUE(pts != NULL);
    pts = strstr(pts, "points=\"") + 8;
    double px[4], py[4];
    ASSERT_EQ(sscanf(pts, "%lf,%lf %lf,%lf %lf,%lf %lf,%lf", &px[0], &py[0], &px[1], &py[1], &px[2],
                     &py[2], &px[3], &py[3]), 8);
    ASSERT_NEAR((px[1] - px[0]) / (px[3] - px[0]), 0.15, 0.01);
    ASSERT_NEAR((px[2] - px[0]) / (px[3] - px[0]), 0.5, 0.01);
    ASSERT_TRUE(py[2] > py[0]); /* smaller y lower on the page (larger SVG y) */
    /* metric curves span their own y range (60..90 here), not 0..max as schedules do */
    ASSERT_STR_CONTAINS(text, "text-anchor=\"end\">60</text>");
    ASSERT_TRUE(strstr(text, "text-anchor=\"end\">0</text>") == NULL);
    ASSERT_TRUE(strstr(text, "text-anchor=\"end\">50</text>") == NULL);
    brisk_free(text);
    brisk_lr_free(a);
    brisk_lr_free(b);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    TEST_DONE();
}
