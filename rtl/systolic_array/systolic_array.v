// systolic_array: a ROWS x COLS grid of mac_pe with its input skew, controller and output drain.
//
// One fold at a time; the feeder drives one beat per cycle (docs/rtl.md, "The array's ports"):
//   OS (mode 0): T stream beats: a_in = A[:, k] (one int8 per row), b_in = B[k, :] (one per column),
//                in_valid = 1, in_last on k = T-1, in_start on k = 0.
//   WS (mode 1): ROWS load beats with in_load = 1, b_in = W[ROWS-1-l, :] (bottom row first,
//                in_start on the first), then T stream beats a_in = S[t, :], in_valid = 1, in_last on
//                t = T-1. IS is WS with the operand roles swapped.
// Input skew: row i of a (and, in OS, column j of b) passes i (j) registers, so A[i][k] meets
// B[k][j] in PE(i, j) k + i + j cycles after the first beat. The fold's phases end from the data:
//   OS: when PE(ROWS-1, COLS-1) does its last MAC, ROWS drain cycles shift the accumulators down;
//       each drain cycle registers the bottom row on out_data (out_row = ROWS-1 .. 0).
//   WS: partial sums flow down; column j of the bottom row passes COLS-1-j de-skew registers, so
//       out_data holds whole output rows (out_row = t); the fold ends with row T-1.
// done pulses on the fold's last cycle: T + 2*ROWS + COLS - 2 cycles after in_start (both modes).
// The next fold's in_start may come on the cycle after done. dbg_* expose every PE register
// (PE (i, j) at index i*COLS + j) for the cycle-by-cycle comparison with the Python model
// (archsim/hw/systolic/ports.py, ArrayPorts).
`default_nettype none

module systolic_array #(
    parameter integer ROWS   = 4,
    parameter integer COLS   = 4,
    parameter integer ACC_W  = 32,  // accumulator / partial-sum width, >= 17
    parameter integer BROKEN = 0    // deliberate bugs for the bench: 1 = row ROWS-1's input skew is one
                                    // register too long; 2 = PE(ROWS/2, COLS/2) multiplies a as unsigned
) (
    input  wire                        clk,
    input  wire                        rst,
    input  wire                        mode,
    input  wire                        in_start,
    input  wire                        in_load,
    input  wire                        in_valid,
    input  wire                        in_last,
    input  wire [ROWS*8-1:0]           a_in,
    input  wire [COLS*8-1:0]           b_in,
    output reg                         busy,
    output reg                         done,
    output reg                         out_valid,
    output reg  [15:0]                 out_row,
    output wire [COLS*ACC_W-1:0]       out_data,
    output wire [ROWS*COLS*8-1:0]      dbg_a,
    output wire [ROWS*COLS-1:0]        dbg_a_v,
    output wire [ROWS*COLS-1:0]        dbg_a_last,
    output wire [ROWS*COLS*8-1:0]      dbg_b,
    output wire [ROWS*COLS-1:0]        dbg_b_v,
    output wire [ROWS*COLS*ACC_W-1:0]  dbg_acc
);
    // ---- controller state ------------------------------------------------------------------
    reg        mode_r;
    reg        draining;
    reg [15:0] drain_cnt;
    reg [15:0] row_cnt;
    wire       md     = in_start ? mode : mode_r;   // the fold's mode (latched at its first beat)
    wire       pe_en  = busy | in_start;             // the array holds while idle
    wire       pe_clr = in_start;                    // the first beat sees an empty array
    wire       beat   = in_valid & ~in_load;

    // ---- left edge: row i of a delayed by i cycles -------------------------------------------
    wire [ROWS*8-1:0] ea;      // a entering PE(i, 0)
    wire [ROWS-1:0]   eav;
    wire [ROWS-1:0]   eal;
    genvar i, j;
    generate
        for (i = 0; i < ROWS; i = i + 1) begin : g_askew
            localparam integer D = i + ((BROKEN == 1 && i == ROWS - 1) ? 1 : 0);
            wire [9:0] head = {beat, beat & in_last, beat ? a_in[i*8 +: 8] : 8'd0};
            if (D == 0) begin : g_direct
                assign {eav[i], eal[i], ea[i*8 +: 8]} = head;
            end else begin : g_delay
                reg [9:0] sr [0:D-1];
                integer d;
                always @(posedge clk) begin
                    if (rst) begin
                        for (d = 0; d < D; d = d + 1) sr[d] <= 10'd0;
                    end else begin
                        sr[0] <= head;
                        for (d = 1; d < D; d = d + 1) sr[d] <= sr[d-1];
                    end
                end
                assign {eav[i], eal[i], ea[i*8 +: 8]} = sr[D-1];
            end
        end

        // ---- top edge: OS streams column j of b delayed by j; WS loads b_in unskewed -----------
        for (j = 0; j < COLS; j = j + 1) begin : g_bskew
            wire [8:0] head = {beat & ~md, (beat & ~md) ? b_in[j*8 +: 8] : 8'd0};
            wire [8:0] tail;
            if (j == 0) begin : g_direct
                assign tail = head;
            end else begin : g_delay
                reg [8:0] sr [0:j-1];
                integer d;
                always @(posedge clk) begin
                    if (rst) begin
                        for (d = 0; d < j; d = d + 1) sr[d] <= 9'd0;
                    end else begin
                        sr[0] <= head;
                        for (d = 1; d < j; d = d + 1) sr[d] <= sr[d-1];
                    end
                end
                assign tail = sr[j-1];
            end
        end

        // ---- the PE grid: each PE's registers on its own wires (neighbours read them by name;
        //      the dbg_* buses only collect them, so no PE reads a bus all PEs write) ------------
        for (i = 0; i < ROWS; i = i + 1) begin : g_row
            for (j = 0; j < COLS; j = j + 1) begin : g_col
                localparam integer P = i * COLS + j;
                wire [7:0]       a_i, b_i, a_o, b_o;
                wire             av_i, al_i, bv_i, av_o, al_o, bv_o;
                wire [ACC_W-1:0] ps_i, acc_o;
                if (j == 0) begin : g_left
                    assign {av_i, al_i, a_i} = {eav[i], eal[i], ea[i*8 +: 8]};
                end else begin : g_inner_a
                    assign {av_i, al_i, a_i} = pe_clr ? 10'd0
                                             : {g_row[i].g_col[j-1].av_o, g_row[i].g_col[j-1].al_o, g_row[i].g_col[j-1].a_o};
                end
                if (i == 0) begin : g_top
                    assign {bv_i, b_i} = md ? {1'b0, b_in[j*8 +: 8]} : g_bskew[j].tail;
                    assign ps_i = {ACC_W{1'b0}};
                end else begin : g_inner_b
                    assign {bv_i, b_i} = pe_clr ? 9'd0 : {g_row[i-1].g_col[j].bv_o, g_row[i-1].g_col[j].b_o};
                    assign ps_i = pe_clr ? {ACC_W{1'b0}} : g_row[i-1].g_col[j].acc_o;
                end
                mac_pe #(
                    .ACC_W(ACC_W),
                    .BROKEN((BROKEN == 2 && i == ROWS / 2 && j == COLS / 2) ? 1 : 0)
                ) u_pe (
                    .clk(clk), .rst(rst), .en(pe_en), .clr(pe_clr), .mode(md),
                    .load(in_load), .drain(draining),
                    .a_in(a_i), .a_v_in(av_i), .a_last_in(al_i),
                    .b_in(b_i), .b_v_in(bv_i), .psum_in(ps_i),
                    .a(a_o), .a_v(av_o), .a_last(al_o), .b(b_o), .b_v(bv_o), .acc(acc_o)
                );
                assign dbg_a[P*8 +: 8] = a_o;  assign dbg_a_v[P] = av_o;  assign dbg_a_last[P] = al_o;
                assign dbg_b[P*8 +: 8] = b_o;  assign dbg_b_v[P] = bv_o;  assign dbg_acc[P*ACC_W +: ACC_W] = acc_o;
            end
        end
    endgenerate

    // ---- end of the stream: PE(ROWS-1, COLS-1) takes the last beat -----------------------------
    wire br_av = g_row[ROWS-1].g_col[COLS-1].av_i;
    wire br_al = g_row[ROWS-1].g_col[COLS-1].al_i;
    wire br_bv = g_row[ROWS-1].g_col[COLS-1].bv_i;
    wire ws_row  = md & ~in_load & br_av;                 // a whole WS output row is complete
    wire last_in = ~draining & br_av & br_al & (md ? ~in_load : br_bv);

    // ---- output drain ----------------------------------------------------------------------------
    wire [COLS*ACC_W-1:0] bottom;                          // the bottom row's accumulators
    reg  [COLS*ACC_W-1:0] os_out;
    wire [COLS*ACC_W-1:0] ws_out;
    generate
        for (j = 0; j < COLS; j = j + 1) begin : g_deskew
            localparam integer D = COLS - 1 - j;
            assign bottom[j*ACC_W +: ACC_W] = g_row[ROWS-1].g_col[j].acc_o;
            if (D == 0) begin : g_direct
                assign ws_out[j*ACC_W +: ACC_W] = bottom[j*ACC_W +: ACC_W];
            end else begin : g_delay
                reg [ACC_W-1:0] sr [0:D-1];
                integer d;
                always @(posedge clk) begin
                    if (rst) begin
                        for (d = 0; d < D; d = d + 1) sr[d] <= {ACC_W{1'b0}};
                    end else if (pe_en) begin
                        sr[0] <= bottom[j*ACC_W +: ACC_W];
                        for (d = 1; d < D; d = d + 1) sr[d] <= sr[d-1];
                    end
                end
                assign ws_out[j*ACC_W +: ACC_W] = sr[D-1];
            end
        end
    endgenerate
    assign out_data = mode_r ? ws_out : os_out;

    always @(posedge clk) begin
        if (rst) begin
            mode_r <= 1'b0; busy <= 1'b0; done <= 1'b0; draining <= 1'b0; drain_cnt <= 16'd0;
            row_cnt <= 16'd0; out_valid <= 1'b0; out_row <= 16'd0; os_out <= {COLS*ACC_W{1'b0}};
        end else begin
            done <= 1'b0;
            out_valid <= 1'b0;
            if (in_start) begin
                mode_r <= mode; busy <= 1'b1; draining <= 1'b0; drain_cnt <= 16'd0; row_cnt <= 16'd0;
            end
            if (pe_en) begin
                if (draining) begin                       // OS: shift the bottom row out
                    out_valid <= 1'b1;
                    out_row <= ROWS[15:0] - 16'd1 - drain_cnt;
                    os_out <= bottom;
                    if (drain_cnt == ROWS[15:0] - 16'd1) begin
                        draining <= 1'b0; busy <= 1'b0; done <= 1'b1;
                    end else begin
                        drain_cnt <= drain_cnt + 16'd1;
                    end
                end else if (last_in && !md) begin
                    draining <= 1'b1; drain_cnt <= 16'd0;
                end else if (last_in) begin
                    busy <= 1'b0; done <= 1'b1;
                end
                if (ws_row) begin
                    out_valid <= 1'b1;
                    out_row <= in_start ? 16'd0 : row_cnt;
                    row_cnt <= (in_start ? 16'd0 : row_cnt) + 16'd1;
                end
            end
        end
    end
endmodule

`default_nettype wire
